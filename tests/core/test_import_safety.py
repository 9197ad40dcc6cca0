"""Issue 10: an Amumo import or a metrics option never changes, leaks or loses data; each failure is one line."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_bad_input import N, clip_matrix, export, fails, snapshot, write_matrix  # noqa: F401 (export is a fixture)

from dashboard.cli import main
from dashboard.errors import GapscopeError
from dashboard.store import Store


@pytest.fixture()
def store(export: Path, tmp_path: Path) -> Path:
    """A store holding the tiny export as dataset 'kept' and a non-Amumo model 'demo-clip' on dataset 'other'."""
    path = tmp_path / "store"
    assert main(["import", "amumo", str(export), "--store", str(path), "--name", "kept"]) == 0
    s = Store.open(path, read_only=False)
    s.add_dataset("other", ["image", "text"])
    s.add_items("other", pd.DataFrame({"item_id": [f"o{i}" for i in range(6)],
                                                        "text": [f"caption {i}" for i in range(6)]}))
    s.add_model("demo-clip", ["image", "text"], 8, 20.52, family="builtin")
    rng = np.random.default_rng(3)
    for modality in ["image", "text"]:
        s.add_embeddings("other", "demo-clip", modality, [f"o{i}" for i in range(6)], rng.normal(size=(6, 8)))
    return path


def run_ok(capsys, *argv: str) -> dict:
    """Run the CLI, expect success, return its JSON."""
    capsys.readouterr()
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def metrics(capsys, store: Path, dataset: str, model: str, *extra: str) -> dict:
    return run_ok(capsys, "metrics", "--store", str(store), "--dataset", dataset, "--model", model, "--clusters", "2",
                  *extra)


def cosine_matrix(seed: int, n: int = 2 * N, dim: int = 6) -> np.ndarray:
    rows = np.random.default_rng(seed).normal(size=(n, dim))
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    return rows @ rows.T


def imp(export: Path, store: Path, *extra: str) -> list[str]:
    return ["import", "amumo", str(export), "--store", str(store), "--name", "kept", *extra]


def test_a_model_name_of_another_model_is_refused_and_changes_nothing(export, store, capsys):
    (export / "similarities" / "CLIP.csv").rename(export / "similarities" / "demo-clip.csv")
    other_before = metrics(capsys, store, "other", "demo-clip")
    before = snapshot(store)
    fails(capsys, imp(export, store, "--name", "new"), "model 'demo-clip' from demo-clip.csv: already in the store "
          "with family 'builtin' (it embedded other); use --model-prefix")
    fails(capsys, imp(export, store, "--name", "new", "--replace"), "model 'demo-clip'", "--model-prefix")
    assert snapshot(store) == before
    summary = run_ok(capsys, *imp(export, store, "--name", "new", "--model-prefix", "amumo-"))
    assert summary["models"] == ["amumo-demo-clip"]
    record = Store.open(store).model("demo-clip")
    assert (record["dim"], record["family"]) == (8, "builtin") and record["logit_scale"] == pytest.approx(20.52)
    assert metrics(capsys, store, "other", "demo-clip") == other_before


def test_the_same_amumo_model_on_another_dataset_is_shared(export, store, capsys):
    summary = run_ok(capsys, *imp(export, store, "--name", "second"))
    assert summary["models"] == ["CLIP"] and summary["items_added"] == N
    assert set(Store.open(store).coverage().query("model == 'CLIP'")["dataset"]) == {"kept", "second"}
    fails(capsys, imp(export, store, "--name", "third", "--logit-scale", "3"),
          "model 'CLIP' from CLIP.csv: already in the store with logit scale 100, not 3 (it embedded kept, second)")


@pytest.mark.parametrize("scale", ["-1", "0", "nan", "inf", "-inf"])
def test_a_bad_logit_scale_writes_nothing(export, store, tmp_path, capsys, scale):
    before = snapshot(store)
    fails(capsys, imp(export, store, "--name", "fresh", f"--logit-scale={scale}"),
          "--logit-scale: must be a positive finite number")
    assert snapshot(store) == before
    fails(capsys, imp(export, tmp_path / "new-store", f"--logit-scale={scale}"), "--logit-scale")
    assert not (tmp_path / "new-store").exists()


def test_a_changed_reimport_is_refused_or_replaced_on_request(export, store, capsys):
    before = snapshot(store)
    again = run_ok(capsys, *imp(export, store))
    assert (again["items_added"], again["models_added"], again["replaced"]) == (0, [], False)
    assert snapshot(store) == before
    write_matrix(export, cosine_matrix(7))
    fails(capsys, imp(export, store), "dataset 'kept': already in the store with other similarities for CLIP "
          "(CLIP.csv: max |delta S|", "use --replace")
    prompts = (export / "prompts.txt").read_text(encoding="utf-8").splitlines()
    (export / "prompts.txt").write_text("\n".join(["changed"] + prompts[1:]) + "\n", encoding="utf-8")
    fails(capsys, imp(export, store), "dataset 'kept': already in the store with other items or captions")
    assert snapshot(store) == before
    summary = run_ok(capsys, *imp(export, store, "--replace"))
    assert summary["replaced"] is True and summary["items_added"] == N
    stored = Store.open(store)
    paired = stored.pairs("kept", "CLIP")
    rows = np.concatenate([paired.vectors["image"], paired.vectors["text"]])
    np.testing.assert_allclose(rows @ rows.T, cosine_matrix(7), atol=1e-9)
    assert stored.items("kept")["text"].iloc[0] == "changed"
    assert len(stored.items("other")) == 6


def test_a_failure_while_writing_restores_every_file(export, store, capsys, monkeypatch):
    write_matrix(export, cosine_matrix(8))
    before = snapshot(store)

    def broken(*args, **kwargs):
        raise GapscopeError("disk full (injected)")

    monkeypatch.setattr(Store, "put_json", broken)
    (export / "similarities" / "CLIP_meta_info.json").write_text('{"loss": 1}', encoding="utf-8")
    fails(capsys, imp(export, store, "--replace"), "disk full (injected)")
    assert snapshot(store) == before
    fails(capsys, imp(export, store, "--name", "brand-new"), "disk full (injected)")
    assert snapshot(store) == before


LATIN1 = "A caf\u00e9 on the corner".encode("latin-1")


@pytest.mark.parametrize("case,needles", [
    ("latin-1 prompts", ["prompts.txt: line 3 is not UTF-8 (byte 0xe9 at column 6"]),
    ("bad meta json", ["CLIP_meta_info.json: not valid JSON (line 1, column"]),
    ("latin-1 meta json", ["CLIP_meta_info.json: line 1 is not UTF-8"]),
    ("meta json list", ["CLIP_meta_info.json: expected a JSON object, found list"]),
    ("ragged projections", ["projections.csv: not a readable CSV table"]),
    ("text in projections", ["projections.csv: column CLIP_PCA_x row 5 is 'oops', not a finite number"]),
    ("latin-1 projections", ["projections.csv: line 2 is not UTF-8"]),
    ("off-diagonal 1.5", ["CLIP.csv: not a cosine matrix: cell (0, 1) is 1.5, outside [-1, 1]"]),
    ("matrix x2", ["CLIP.csv: not a cosine matrix: diagonal cell (", ") is 2, not 1"]),
    ("extra caption line", ["prompts.txt: 11 lines for the 10 items of CLIP.csv (no line is empty; "
                            "a caption with a line break?)"]),
    ("image,image", ["--modalities: modality 'image' is given twice (image,image)"]),
    ("empty modality", ["--modalities: entry 2 of 'image,,text' is empty"]),
    ("comma only", ["--modalities: entry 1 of ',' is empty"]),
])
def test_bad_files_and_options_are_one_line_errors(case, needles, export, store, capsys):
    extra = _break(case, export)
    before = snapshot(store)
    fails(capsys, imp(export, store, "--name", "fresh", *extra), *needles)
    assert snapshot(store) == before


def _break(case: str, export: Path) -> list[str]:
    """Break the export as the case says; the extra CLI options the case needs."""
    sim, prompts = export / "similarities", export / "prompts.txt"
    lines = prompts.read_bytes().splitlines()
    projections = export / "projections.csv"
    header = "emb_id,data_type,CLIP_PCA_x,CLIP_PCA_y\n"
    rows = [f"{i},{'image' if i < N else 'text'},{i * 0.1},{i * 0.2}" for i in range(2 * N)]
    writers = {
        "latin-1 prompts": lambda: prompts.write_bytes(b"\n".join(lines[:2] + [LATIN1] + lines[3:]) + b"\n"),
        "bad meta json": lambda: (sim / "CLIP_meta_info.json").write_text("{loss: 1", encoding="utf-8"),
        "latin-1 meta json": lambda: (sim / "CLIP_meta_info.json").write_bytes(b'{"a": "' + LATIN1 + b'"}'),
        "meta json list": lambda: (sim / "CLIP_meta_info.json").write_text("[1, 2]", encoding="utf-8"),
        "ragged projections": lambda: projections.write_text(header + "\n".join(rows[:3] + ["1,2,3,4,5,6,7"] + rows[4:])),
        "text in projections": lambda: projections.write_text(header + "\n".join(rows[:3] + ["3,image,oops,1"] + rows[4:])),
        "latin-1 projections": lambda: projections.write_bytes(header.encode() + LATIN1 + b"\n"),
        "off-diagonal 1.5": lambda: write_matrix(export, _set(clip_matrix(export), 0, 1, 1.5)),
        "matrix x2": lambda: write_matrix(export, clip_matrix(export) * 2),
        "extra caption line": lambda: prompts.write_bytes(b"\n".join(lines[:3] + [b"spare"] + lines[3:]) + b"\n"),
    }
    options = {"image,image": "image,image", "empty modality": "image,,text", "comma only": ","}
    if case in options:
        return ["--modalities", options[case]]
    writers[case]()
    return []


def _set(matrix: np.ndarray, row: int, column: int, value: float) -> np.ndarray:
    matrix = matrix.copy()
    matrix[row, column] = matrix[column, row] = value
    return matrix


def test_a_bom_is_dropped_from_the_first_caption(export, store, capsys):
    text = (export / "prompts.txt").read_text(encoding="utf-8")
    (export / "prompts.txt").write_text("\ufeff" + text, encoding="utf-8")
    run_ok(capsys, *imp(export, store, "--name", "bom"))
    captions = Store.open(store).items("bom")["text"].tolist()
    assert captions == text.splitlines() and not captions[0].startswith("\ufeff")


def test_a_caption_with_a_line_break_imports_with_the_right_captions(export, store, capsys):
    lines = (export / "prompts.txt").read_text(encoding="utf-8").splitlines()
    (export / "prompts.txt").write_text("\n".join(lines[:4] + [""] + lines[4:]) + "\n", encoding="utf-8")
    run_ok(capsys, *imp(export, store, "--name", "broken-caption"))
    assert Store.open(store).items("broken-caption")["text"].tolist() == lines


def test_amumos_dog_export_with_a_line_break_imports(reference, tmp_path, capsys):
    folder = reference / "MSCOCO-Val_filter-any_dog"
    lines = (folder / "prompts.txt").read_text(encoding="utf-8").splitlines()
    summary = run_ok(capsys, "import", "amumo", str(folder), "--store", str(tmp_path / "s"))
    captions = Store.open(tmp_path / "s").items(summary["dataset"])["text"].tolist()
    assert len(captions) == 100 and captions == [line for line in lines if line.strip()]
    assert captions[67].startswith("A dog sitting between its masters feet") and captions[68].startswith("There is a dog")


@pytest.mark.parametrize("extra,needle", [
    (["--modalities", "image,image"], "--modalities: modality 'image' is given twice (image,image)"),
    (["--modalities", "image,text,text"], "--modalities: modality 'text' is given twice (image,text,text)"),
    (["--modalities", ","], "--modalities: entry 1 of ',' is empty"),
    (["--modalities", "image"], "--modalities: needs at least two modalities, got 1 (image)"),
    (["--batch-size", "1"], "loss: batch size 1 has no negatives"),
    (["--batch-size", "0"], "loss: batch size 0 does not fit 10 pairs"),
])
def test_bad_metrics_options_are_one_line_errors(extra, needle, store, capsys):
    before = snapshot(store)
    fails(capsys, ["metrics", "--store", str(store), "--dataset", "kept", "--model", "CLIP", *extra], needle)
    assert snapshot(store) == before


def test_the_metrics_library_refuses_repeated_modalities():
    from dashboard.metrics import compute_metrics

    vectors = {"image": np.eye(4), "text": np.eye(4)}
    with pytest.raises(GapscopeError, match="modality 'image' is given twice"):
        compute_metrics(vectors, ["image", "image"], 10.0, None)


def _embeddings(tmp_path: Path, seed: int) -> list[str]:
    """Two .npy files of 5 random vectors; the --vectors arguments."""
    rng = np.random.default_rng(seed)
    for modality in ["image", "text"]:
        np.save(tmp_path / f"{modality}.npy", rng.normal(size=(5, 8)))
    return [f"image={tmp_path / 'image.npy'}", f"text={tmp_path / 'text.npy'}"]


def test_embeddings_import_never_overwrites_another_model_or_old_vectors(store, tmp_path, capsys):
    vectors = _embeddings(tmp_path, 0)
    base = ["import", "embeddings", "--store", str(store), "--dataset", "emb", "--vectors", *vectors]
    before = snapshot(store)
    fails(capsys, [*base, "--model", "demo-clip"], "model 'demo-clip': already in the store as a builtin with logit "
          "scale 20.52; import under another --model name")
    fails(capsys, [*base, "--model", "mine", "--logit-scale", "nan"], "--logit-scale: must be a positive finite number")
    assert snapshot(store) == before
    assert run_ok(capsys, *base, "--model", "mine")["items_added"] == 5
    assert run_ok(capsys, *base, "--model", "mine")["items_added"] == 0
    before = snapshot(store)
    fails(capsys, [*base[:-2], *_embeddings(tmp_path, 1), "--model", "mine"],
          "dataset 'emb', model 'mine': image vectors already stored differ from the new ones")
    fails(capsys, [*base, "--model", "mine", "--logit-scale", "7"], "model 'mine': already in the store as a precomputed")
    assert snapshot(store) == before
