"""Projections, their faithfulness, and the loss landscape (against the structure of Amumo's 5000-pair export)."""
import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import MSCOCO, REFERENCE, SCALES, blocks
from sklearn.decomposition import PCA

from dashboard.analysis import faithfulness as fa
from dashboard.analysis.landscape import DELTAS, loss_landscape
from dashboard.analysis.projection import pca, project, project_modalities, project_out_of_sample, project_pairs
from dashboard.errors import GapscopeError
from dashboard.synthetic import synthetic_vectors


@pytest.fixture(scope="module")
def small() -> dict[str, np.ndarray]:
    return synthetic_vectors(80, 24, ["image", "text"], seed=2, topics=4)[1]


def test_pca_equals_scikit_learn_up_to_sign(small) -> None:
    x = np.vstack([small["image"], small["text"]]).astype(np.float64)
    ours, theirs = pca(x), PCA(n_components=2).fit_transform(x)
    for axis in range(2):
        assert min(np.abs(ours[:, axis] - theirs[:, axis]).max(), np.abs(ours[:, axis] + theirs[:, axis]).max()) < 1e-8


def test_projection_shapes_and_errors(small) -> None:
    image, text = project_modalities([small["image"], small["text"]], "pca")
    assert image.shape == text.shape == (80, 2)
    assert project_pairs([small["image"], small["text"]]).shape == (80, 2)
    with pytest.raises(GapscopeError, match="unknown method"):
        project(small["image"], "mds")
    with pytest.raises(GapscopeError, match="rows"):
        project_pairs([small["image"], small["text"][:10]])


def test_tsne_and_umap_are_seeded(small) -> None:
    tsne = project_modalities([small["image"], small["text"]], "tsne")
    assert np.array_equal(np.vstack(tsne), np.vstack(project_modalities([small["image"], small["text"]], "tsne")))
    umap = np.vstack(project_modalities([small["image"], small["text"]], "umap"))
    assert umap.shape == (160, 2) and np.isfinite(umap).all()
    fitted, placed = project_out_of_sample(small["image"], [small["text"]])
    assert fitted.shape == placed.shape == (80, 2) and np.isfinite(placed).all()
    assert np.isfinite(project(small["image"][:8], "umap")).all()


def test_analyses_import_without_torch_umap_or_streamlit() -> None:
    code = ("import sys, dashboard.precompute, dashboard.metrics; "
            "print(sorted({'torch', 'umap', 'streamlit', 'openTSNE'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_faithfulness() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=(200, 2))
    b = a + 0.05 * rng.normal(size=(200, 2))
    perfect = fa.pair_preservation(a, b, a, b, k=5)
    assert perfect["preserved"] == 1.0 and perfect["near_2d"] > 0.9
    shuffled = fa.pair_preservation(a, b, a, b[rng.permutation(200)], k=5)
    assert shuffled["preserved"] < 0.2
    assert fa.trustworthiness(np.hstack([a, np.ones((200, 1))]), a, k=5) > 0.99
    assert fa.trustworthiness(np.hstack([a, np.ones((200, 1))]), rng.normal(size=(200, 2)), k=5) < 0.8


def test_reference_landscape_structure() -> None:
    for model in ("CLIP", "CyCLIP"):
        reference = json.loads((REFERENCE / "MSCOCO-Val_size-5000" / f"{model}_loss_landscape.json").read_text())
        assert len(reference["distances"]) == len(reference["losses"]) == len(DELTAS) == 40
        zero = int(np.flatnonzero(DELTAS == 0)[0])
        assert reference["distances"][zero] == pytest.approx(reference["original_distance"])
        assert reference["losses"][zero] == pytest.approx(reference["original_loss"])
        assert reference["loss_difference"] == pytest.approx(reference["closed_loss"] - reference["original_loss"])
        assert np.all(np.diff(reference["distances"]) < 0)


@pytest.mark.parametrize("model", ["CLIP", "ImageBind"])
def test_landscape_on_export(model: str) -> None:
    images, texts = blocks(MSCOCO, model)
    reference = json.loads((REFERENCE / "MSCOCO-Val_size-5000" / "CLIP_loss_landscape.json").read_text())
    result = loss_landscape(images, texts, SCALES[model])
    assert set(reference) <= set(result)
    zero = int(np.flatnonzero(DELTAS == 0)[0])
    assert result["distances"][zero] == pytest.approx(result["original_distance"])
    assert result["losses"][zero] == pytest.approx(result["original_loss"])
    assert np.all(np.diff(result["distances"]) < 0)
    assert result["distances"][0] > 0 > result["distances"][-1]
    assert result["closed_distance"] < 0.1 * result["original_distance"]
    assert result["loss_difference"] == pytest.approx(result["closed_loss"] - result["original_loss"])
    if model == "CLIP":  # gap 0.81 like the 5000-pair export (0.82), whose distance changes sign in (0.5, 1.0]
        crossing = [d for d, dist in zip(result["deltas"], result["distances"]) if dist < 0][0]
        reference_crossing = [d for d, dist in zip(DELTAS, reference["distances"]) if dist < 0][0]
        assert crossing == reference_crossing == 1.0
