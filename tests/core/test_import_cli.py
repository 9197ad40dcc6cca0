"""`gapscope import` of every kind of Amumo export and of precomputed vectors, and `gapscope list`."""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dashboard.analysis.similarity import similarity_matrix
from dashboard.cli import main
from dashboard.store import Store


def cli_json(capsys: pytest.CaptureFixture, *argv: str) -> dict:
    capsys.readouterr()
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("folder, modalities, models", [
    ("Triplet_size-100", "image,text,audio", ["ImageBind"]),
    ("CLOOMDataset_size-100", "image,molecule", ["CLOOME_CLIP", "CLOOME_CLIP_nogap", "CLOOME_CLOOB", "CLOOME_CLOOB_nogap"]),
    ("HShift-0_size-100", "image,text", None),
])
def test_import_amumo_kinds(folder: str, modalities: str, models: list[str] | None, reference: Path, tmp_path: Path,
                            capsys: pytest.CaptureFixture) -> None:
    summary = cli_json(capsys, "import", "amumo", str(reference / folder), "--store", str(tmp_path / "s"),
                       "--modalities", modalities)
    assert summary["dataset"] == folder and summary["items_added"] == 100
    if models:
        assert summary["models"] == models
    store = Store.open(tmp_path / "s")
    model = summary["models"][0]
    paired = store.pairs(folder, model)
    rebuilt = similarity_matrix([paired.vectors[m].astype(np.float64) for m in modalities.split(",")])
    original = np.loadtxt(reference / folder / "similarities" / f"{model}.csv", delimiter=",")
    assert np.abs(rebuilt - original).max() < 1e-5
    listing = cli_json(capsys, "list", "--store", str(tmp_path / "s"), "--json")
    assert listing["datasets"][0]["embedded_items_per_modality"] == {m: 100 for m in modalities.split(",")}
    assert {e["model"] for e in listing["embedded"]} == set(summary["models"])


def test_cloome_items_keep_smiles(reference: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    cli_json(capsys, "import", "amumo", str(reference / "CLOOMDataset_size-100"), "--store", str(tmp_path / "s"),
             "--modalities", "image,molecule")
    items = Store.open(tmp_path / "s").items("CLOOMDataset_size-100", thumbnails=True)
    smiles = (reference / "CLOOMDataset_size-100" / "prompts.txt").read_text().splitlines()
    assert items["molecule"].tolist() == smiles
    assert items["thumbnail"].map(len).min() > 100


def test_reimport_adds_nothing(reference: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    source = str(reference / "DiffusionDB_size-100")
    cli_json(capsys, "import", "amumo", source, "--store", str(tmp_path / "s"))
    again = cli_json(capsys, "import", "amumo", source, "--store", str(tmp_path / "s"))
    assert again["items_added"] == 0
    counts = Store.open(tmp_path / "s").coverage()["count"]
    assert (counts == 100).all()


@pytest.mark.parametrize("fmt", ["npy", "npz", "parquet"])
def test_import_embeddings_formats(fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    rng = np.random.default_rng(0)
    image, text = rng.normal(size=(6, 5)), rng.normal(size=(6, 5))
    ids = [f"id{i}" for i in range(6)]
    pd.DataFrame({"item_id": ids, "text": [f"caption {i}" for i in range(6)], "split": ["a"] * 6}).to_csv(tmp_path / "m.csv", index=False)
    if fmt == "npy":
        np.save(tmp_path / "i.npy", image), np.save(tmp_path / "t.npy", text)
        vectors = [f"image={tmp_path / 'i.npy'}", f"text={tmp_path / 't.npy'}"]
    elif fmt == "npz":
        np.savez(tmp_path / "v.npz", image=image, text=text)
        vectors = [str(tmp_path / "v.npz")]
    else:
        pd.DataFrame({"item_id": ids, "image": list(image), "text": list(text)}).to_parquet(tmp_path / "v.parquet")
        vectors = [str(tmp_path / "v.parquet")]
    summary = cli_json(capsys, "import", "embeddings", "--store", str(tmp_path / "s"), "--dataset", "d", "--model", "m",
                       "--vectors", *vectors, "--metadata", str(tmp_path / "m.csv"), "--logit-scale", "20")
    assert summary["dim"] == 5 and summary["items_added"] == 6
    store = Store.open(tmp_path / "s")
    paired = store.pairs("d", "m")
    assert paired.item_ids == ids
    np.testing.assert_allclose(paired.vectors["text"], text.astype(np.float32))
    assert store.model("m")["logit_scale"] == 20.0
    assert json.loads(store.items("d")["extra"].iloc[0]) == {"split": "a"}


def test_help_mentions_every_command(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for command in ("import", "metrics", "list", "precompute", "app"):
        assert command in out


def test_app_store_roots_reach_the_dashboards_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from dashboard.cli import app_environment, build_parser
    monkeypatch.delenv("GAPSCOPE_STORE_ROOTS", raising=False)
    args = build_parser().parse_args(["app", "--store", str(tmp_path / "s"), "--store-roots", str(tmp_path / "a"),
                                      str(tmp_path / "b")])
    env = app_environment(args.store, args.store_roots)
    assert env["GAPSCOPE_STORE"] == str((tmp_path / "s").resolve())
    assert env["GAPSCOPE_STORE_ROOTS"].split(os.pathsep) == [str(tmp_path / "a"), str(tmp_path / "b")]
    assert "GAPSCOPE_STORE_ROOTS" not in app_environment(tmp_path / "s", None)
