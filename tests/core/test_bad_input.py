"""Bad input gets a one-line error naming the file or item and the problem, and leaves the store as it was."""
import hashlib
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pytest

from dashboard.cli import main

N = 10


def tiny_export(reference: Path, folder: Path) -> Path:
    """A 10-pair Amumo export cut from MSCOCO-Val_size-100 (CLIP's matrix restricted to those pairs)."""
    source = reference / "MSCOCO-Val_size-100"
    (folder / "images").mkdir(parents=True)
    (folder / "similarities").mkdir()
    prompts = source.joinpath("prompts.txt").read_text(encoding="utf-8").splitlines()[:N]
    (folder / "prompts.txt").write_text("\n".join(prompts) + "\n", encoding="utf-8")
    for i in range(N):
        shutil.copy(source / "images" / f"{i}.jpg", folder / "images" / f"{i}.jpg")
    full = np.loadtxt(source / "similarities" / "CLIP.csv", delimiter=",")
    keep = list(range(N)) + list(range(100, 100 + N))
    np.savetxt(folder / "similarities" / "CLIP.csv", full[np.ix_(keep, keep)], delimiter=",")
    return folder


def snapshot(store: Path) -> dict[str, str]:
    """Hash of every file in a store folder."""
    return {str(p.relative_to(store)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(store.rglob("*")) if p.is_file()}


@pytest.fixture()
def export(reference: Path, tmp_path: Path) -> Path:
    return tiny_export(reference, tmp_path / "Tiny_size-10")


@pytest.fixture()
def store(export: Path, tmp_path: Path) -> Path:
    """A store that already holds the tiny export, to check that failures leave it as it was."""
    path = tmp_path / "store"
    assert main(["import", "amumo", str(export), "--store", str(path), "--name", "kept"]) == 0
    return path


def fails(capsys: pytest.CaptureFixture, argv: list[str], *needles: str) -> str:
    """Run the CLI, expect exit 2 and a single stderr line containing every needle."""
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    for needle in needles:
        assert needle in err, err
    return err


def write_matrix(export: Path, matrix: np.ndarray) -> None:
    np.savetxt(export / "similarities" / "CLIP.csv", matrix, delimiter=",")


def clip_matrix(export: Path) -> np.ndarray:
    return np.loadtxt(export / "similarities" / "CLIP.csv", delimiter=",")


CASES = {
    "non-square": (lambda e: write_matrix(e, clip_matrix(e)[:, :-1]), ["CLIP.csv", "not square"]),
    "asymmetric": (lambda e: write_matrix(e, clip_matrix(e) + np.triu(np.full((2 * N, 2 * N), 0.01), 1)),
                   ["CLIP.csv", "not symmetric"]),
    "missing prompts": (lambda e: (e / "prompts.txt").unlink(), ["prompts.txt", "missing"]),
    "missing image": (lambda e: (e / "images" / "3.jpg").unlink(), ["3.jpg", "missing image"]),
    "row count": (lambda e: (e / "prompts.txt").write_text("a\nb\nc\n"), ["CLIP.csv", "expected 6"]),
    "nan": (lambda e: write_matrix(e, np.where(np.eye(2 * N, k=1) + np.eye(2 * N, k=-1) > 0, np.nan, clip_matrix(e))),
            ["CLIP.csv", "NaN"]),
    "zero vector": (lambda e: write_matrix(e, _zero_row(clip_matrix(e), 4)), ["item 4", "zero embedding"]),
}


def _zero_row(matrix: np.ndarray, row: int) -> np.ndarray:
    matrix = matrix.copy()
    matrix[row, :] = 0.0
    matrix[:, row] = 0.0
    return matrix


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_amumo_export(case: str, export: Path, store: Path, capsys: pytest.CaptureFixture) -> None:
    breaker, needles = CASES[case]
    before = snapshot(store)
    breaker(export)
    fails(capsys, ["import", "amumo", str(export), "--store", str(store)], *needles)
    assert snapshot(store) == before


def test_mismatched_dimensions(tmp_path: Path, store: Path, capsys: pytest.CaptureFixture) -> None:
    rng = np.random.default_rng(0)
    np.save(tmp_path / "img.npy", rng.normal(size=(5, 8)))
    np.save(tmp_path / "txt.npy", rng.normal(size=(5, 6)))
    before = snapshot(store)
    fails(capsys, ["import", "embeddings", "--store", str(store), "--dataset", "d", "--model", "m",
                   "--vectors", f"image={tmp_path / 'img.npy'}", f"text={tmp_path / 'txt.npy'}"], "dimensions differ")
    np.save(tmp_path / "txt.npy", rng.normal(size=(5, 8)))
    assert main(["import", "embeddings", "--store", str(store), "--dataset", "d", "--model", "m",
                 "--vectors", f"image={tmp_path / 'img.npy'}", f"text={tmp_path / 'txt.npy'}"]) == 0
    before = snapshot(store)
    np.save(tmp_path / "img.npy", rng.normal(size=(5, 4)))
    np.save(tmp_path / "txt.npy", rng.normal(size=(5, 4)))
    fails(capsys, ["import", "embeddings", "--store", str(store), "--dataset", "d2", "--model", "m",
                   "--vectors", f"image={tmp_path / 'img.npy'}", f"text={tmp_path / 'txt.npy'}"], "model 'm'", "dimension 8")
    assert snapshot(store) == before


def test_metadata_row_count(tmp_path: Path, store: Path, capsys: pytest.CaptureFixture) -> None:
    np.save(tmp_path / "img.npy", np.ones((3, 4)))
    (tmp_path / "meta.csv").write_text("text\na\nb\n")
    before = snapshot(store)
    fails(capsys, ["import", "embeddings", "--store", str(store), "--dataset", "d", "--model", "m2",
                   "--vectors", f"image={tmp_path / 'img.npy'}", "--metadata", str(tmp_path / "meta.csv")],
          "meta.csv", "2 rows", "3")
    assert snapshot(store) == before


def test_nan_vectors(tmp_path: Path, store: Path, capsys: pytest.CaptureFixture) -> None:
    vectors = np.ones((3, 4))
    vectors[1, 2] = np.nan
    np.save(tmp_path / "img.npy", vectors)
    before = snapshot(store)
    fails(capsys, ["import", "embeddings", "--store", str(store), "--dataset", "d", "--model", "m3",
                   "--vectors", f"image={tmp_path / 'img.npy'}"], "item 1", "NaN")
    assert snapshot(store) == before


def test_other_schema_version(store: Path, capsys: pytest.CaptureFixture) -> None:
    with duckdb.connect(str(store / "meta.duckdb")) as con:
        con.execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'")
    before = snapshot(store)
    fails(capsys, ["list", "--store", str(store)], "schema version 999")
    fails(capsys, ["metrics", "--store", str(store), "--dataset", "kept", "--model", "CLIP"], "schema version 999")
    assert snapshot(store) == before


@pytest.mark.parametrize("argv, needles", [
    (["--dataset", "nope", "--model", "CLIP"], ["dataset 'nope'", "known: kept"]),
    (["--dataset", "kept", "--model", "nope"], ["model 'nope'", "known: CLIP"]),
])
def test_unknown_names(argv: list[str], needles: list[str], store: Path, capsys: pytest.CaptureFixture) -> None:
    before = snapshot(store)
    fails(capsys, ["metrics", "--store", str(store), *argv], *needles)
    assert snapshot(store) == before


def test_not_a_store(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    fails(capsys, ["list", "--store", str(tmp_path)], "not a gapscope store")
