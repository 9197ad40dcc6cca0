"""`gapscope import amumo` then `gapscope metrics` reproduce Amumo's own numbers on MSCOCO-Val_size-100."""
import json
from pathlib import Path

import numpy as np
import pytest

from dashboard.analysis.closing import close_gap
from dashboard.analysis.similarity import similarity_matrix
from dashboard.cli import main
from dashboard.store import Store

# CyCLIP's checkpoint holds logit_scale 4.6052: exp of it is 100.003, and a scale of exactly 100 misses by 1.1e-5.
MODELS = {"CLIP": 100.0, "CyCLIP": float(np.exp(4.6052)), "CLOOB": 30.0, "CLOOB_LAION400M": 30.0, "ImageBind": 1.0}
SET = "MSCOCO-Val_size-100"


def run_metrics(capsys: pytest.CaptureFixture, *args: str) -> dict:
    """Run `gapscope metrics ... --json` and parse its output."""
    assert main(["metrics", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("model", sorted(MODELS))
def test_metrics_match_amumo(model: str, mscoco_store: Path, reference: Path, capsys: pytest.CaptureFixture) -> None:
    meta = json.loads((reference / SET / "similarities" / f"{model}_meta_info.json").read_text())
    result = run_metrics(capsys, "--store", str(mscoco_store), "--dataset", SET, "--model", model,
                         "--loss", "image_to_text", "--batch-size", "50", "--logit-scale", str(MODELS[model]),
                         "--clusters", "10", "--cluster-method", "amumo")
    assert abs(result["gap_distance"] - meta["gap_distance"]) < 1e-6
    assert abs(result["loss"] - meta["loss"]) < 1e-5
    assert result["cluster_sizes"] == meta["cluster_sizes"]
    recall = result["recall_at_k"]
    assert set(recall) == {"image_to_text", "text_to_image"}
    assert all(0.0 <= recall[d][k] <= 1.0 for d in recall for k in ("1", "5", "10"))


@pytest.mark.parametrize("model", sorted(MODELS))
def test_stored_logit_scale_is_amumos(model: str, mscoco_store: Path, capsys: pytest.CaptureFixture) -> None:
    explicit = run_metrics(capsys, "--store", str(mscoco_store), "--dataset", SET, "--model", model,
                           "--logit-scale", str(MODELS[model]))
    default = run_metrics(capsys, "--store", str(mscoco_store), "--dataset", SET, "--model", model)
    assert default["loss"] == pytest.approx(explicit["loss"], abs=1e-12)


@pytest.mark.parametrize("model", sorted(MODELS))
def test_closing_the_gap_matches_nogap_matrix(model: str, mscoco_store: Path, reference: Path) -> None:
    paired = Store.open(mscoco_store).pairs(SET, model)
    images, texts = close_gap(paired.vectors["image"].astype(np.float64), paired.vectors["text"].astype(np.float64))
    expected = np.loadtxt(reference / SET / "similarities" / f"{model}_nogap.csv", delimiter=",")
    assert np.abs(similarity_matrix([images, texts]) - expected).max() < 1e-5


@pytest.mark.parametrize("model", sorted(MODELS))
def test_closed_gap_metrics_match_amumo_nogap_meta(model: str, mscoco_store: Path, reference: Path,
                                                  capsys: pytest.CaptureFixture) -> None:
    meta = json.loads((reference / SET / "similarities" / f"{model}_nogap_meta_info.json").read_text())
    result = run_metrics(capsys, "--store", str(mscoco_store), "--dataset", SET, "--model", model, "--closed-gap",
                         "--loss", "image_to_text", "--batch-size", "50", "--logit-scale", str(MODELS[model]))
    assert abs(result["gap_distance"] - meta["gap_distance"]) < 1e-6
    assert abs(result["loss"] - meta["loss"]) < 1e-5


@pytest.mark.parametrize("model", sorted(MODELS))
def test_pca_matches_amumo_projection(model: str, mscoco_store: Path, reference: Path) -> None:
    import pandas as pd

    from dashboard.analysis.projection import project_modalities

    paired = Store.open(mscoco_store).pairs(SET, model)
    images, texts = project_modalities([paired.vectors["image"], paired.vectors["text"]], "pca")
    ours = np.vstack([images, texts])
    exported = pd.read_csv(reference / SET / "projections.csv")
    for axis, column in enumerate(("x", "y")):
        expected = exported[f"{model}_PCA_{column}"].to_numpy()
        sign = 1.0 if np.dot(ours[:, axis], expected) >= 0 else -1.0
        assert np.abs(sign * ours[:, axis] - expected).max() < 2e-3
