"""The demo's real models: Amumo's DiffusionDB exports in the committed store, with Amumo's own numbers."""
from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dashboard.errors import GapscopeError
from dashboard.store import Store
from ingest.demo.diffusiondb import MODELS, PAIRS, REFERENCE, SWEEPS, augmented, build_diffusiondb

REPO_ROOT = Path(__file__).resolve().parents[2]
DEMO_STORE = REPO_ROOT / "data" / "demo"
DEMO_LIMIT_BYTES = 40 * 1024 * 1024


def cli_metrics(dataset: str, model: str) -> dict:
    """`gapscope metrics` on the committed demo store with Amumo's loss settings."""
    command = [sys.executable, "-m", "dashboard.cli", "metrics", "--store", str(DEMO_STORE), "--dataset", dataset,
               "--model", model, "--loss", "image_to_text", "--batch-size", "50", "--clusters", "10",
               "--cluster-method", "amumo", "--json"]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=REPO_ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("model", MODELS)
def test_cli_metrics_equal_amumo_meta_info(model: str) -> None:
    expected = json.loads((REFERENCE / PAIRS / "similarities" / f"{model}_meta_info.json").read_text())
    found = cli_metrics(PAIRS, model)
    assert abs(found["gap_distance"] - expected["gap_distance"]) < 1e-6
    assert abs(found["loss"] - expected["loss"]) < 1e-5
    assert found["cluster_sizes"] == expected["cluster_sizes"]


def test_store_holds_pairs_and_sweeps_of_the_four_models(demo_store: Store) -> None:
    coverage = demo_store.coverage()
    names = [PAIRS, *(s.folder for s in SWEEPS)]
    for name in names:
        embedded = coverage[coverage["dataset"] == name]
        assert set(embedded["model"]) == set(MODELS), name
        assert set(embedded["count"]) == {100}, name
    kinds = demo_store.datasets().set_index("name")["kind"]
    assert kinds[PAIRS] == "amumo" and all(kinds[s.folder] == "sweep" for s in SWEEPS)
    assert not any(name.endswith("_nogap") for name in demo_store.models()["name"])


def test_one_model_record_shared_by_every_dataset(demo_store: Store) -> None:
    models = demo_store.models().set_index("name")
    for model in MODELS:
        record = models.loc[model]
        assert record["family"] == "amumo-gram" and record["dim"] == 0
        assert "ginihumer/Amumo" in record["source"]
    assert abs(models.loc["CLIP", "logit_scale"] - 100.0) < 1e-9
    assert abs(models.loc["CLOOB", "logit_scale"] - 30.0) < 1e-9


def test_no_reference_path_or_original_image_in_the_store(demo_store: Store) -> None:
    refs = demo_store.query("SELECT image_ref FROM items WHERE dataset = ?", [PAIRS])["image_ref"]
    assert all(r.startswith(f"{PAIRS}/images/") for r in refs)
    sizes = [Image.open(io.BytesIO(b)).size for b in demo_store.thumbnails(PAIRS, ["0", "1"]).values()]
    assert all(max(s) <= 96 for s in sizes)
    total = sum(f.stat().st_size for f in DEMO_STORE.rglob("*") if f.is_file())
    assert total < DEMO_LIMIT_BYTES


@pytest.mark.parametrize("folder, op, step", [("Rotated-0_size-100", "rotate", 25), ("Blurred-0_size-100", "blur", 50)])
def test_regenerated_strip_follows_amumo_augmentation(folder: str, op: str, step: int) -> None:
    # Amumo shipped rotation and blur images: our regeneration of them matches up to JPEG noise, so the same
    # code regenerates the noise and shift strips Amumo did not ship.
    base = Image.open(REFERENCE / PAIRS / "images" / "0.jpg").convert("RGB")
    ours = next(im for k, im in enumerate(augmented(base, op)) if k == step)
    theirs = Image.open(REFERENCE / folder / "images" / f"{step}.jpg").convert("RGB")
    difference = np.abs(np.asarray(ours, float) - np.asarray(theirs, float)).mean()
    unaugmented = np.abs(np.asarray(base, float) - np.asarray(theirs, float)).mean()
    assert difference < 4.0 and unaugmented > 5 * difference


def test_regenerated_strip_in_the_store_has_the_sweep_order(demo_store: Store) -> None:
    items = demo_store.items("HShift-0_size-100")
    extra = items["extra"].map(json.loads)
    assert [e["step"] for e in extra] == list(range(100))
    assert extra.iloc[0]["value"] == pytest.approx(-512.0) and extra.iloc[99]["value"] == pytest.approx(512.0)
    assert items["image_ref"].str.contains("regenerated").all()


def test_a_broken_reference_leaves_the_store_as_it_was(tmp_path: Path) -> None:
    store = tmp_path / "store"
    Store.create(store).add_dataset("keep", ["image", "text"])
    reference = tmp_path / "reference"
    shutil.copytree(REFERENCE / PAIRS, reference / PAIRS)
    (reference / PAIRS / "similarities" / "CLOOB.csv").unlink()
    with pytest.raises(GapscopeError, match="CLOOB"):
        build_diffusiondb(store, reference)
    assert list(Store.open(store).datasets()["name"]) == ["keep"]
    assert not (tmp_path / "store.building").exists()
