"""The metrics object and the precomputed artefacts of a real store (synthetic embeddings)."""
import json

import numpy as np
import pytest

from dashboard.analysis.closing import close_gaps
from dashboard.analysis.gap import gap_distance
from dashboard.errors import GapscopeError
from dashboard.metrics import compute_metrics
from dashboard.precompute import precompute, precompute_summary
from dashboard.sql import figures
from dashboard.store import artifacts
from dashboard.synthetic import build_synthetic_store, synthetic_vectors

KEYS = {"gap_distance", "gap_distances", "loss", "loss_kind", "batch_size", "logit_scale", "recall_at_k",
        "cluster_sizes", "cluster_labels", "cluster_sort_idcs", "alignment", "uniformity", "relative_gap",
        "matched_cosine", "unmatched_cosine", "n"}


@pytest.fixture(scope="module")
def vectors() -> dict[str, np.ndarray]:
    return synthetic_vectors(150, 32, ["image", "text", "audio"], seed=4)[1]


def texts(n: int) -> list[str]:
    return [f"a {['dog', 'cat', 'red bus'][i % 3]} photo {i}" for i in range(n)]


def test_metrics_object(vectors) -> None:
    result = compute_metrics(vectors, ["image", "text"], 50.0, texts(150))
    assert KEYS <= set(result)
    assert json.loads(json.dumps(result)) == result
    assert set(result["recall_at_k"]) == {"image_to_text", "text_to_image"}
    assert set(result["recall_at_k"]["image_to_text"]) == {"1", "5", "10"}
    assert result["gap_distances"] == {"image_text": result["gap_distance"]}
    assert result["gap_distance"] == pytest.approx(gap_distance(vectors["image"], vectors["text"]))
    assert sum(result["cluster_sizes"]) == 150 and len(result["cluster_labels"]) == len(result["cluster_sizes"])
    assert sorted(result["cluster_sort_idcs"]) == list(range(150))
    assert set(result["uniformity"]) == {"image", "text"} and result["n"] == 150


def test_metrics_options(vectors) -> None:
    three = compute_metrics(vectors, ["image", "text", "audio"], 10.0, None, loss="infoloob", batch_size=50,
                            cluster_method="kmeans", clusters=4, cluster_block="audio_image")
    assert set(three["gap_distances"]) == {"image_text", "image_audio", "text_audio"}
    assert len(three["recall_at_k"]) == 6 and three["cluster_labels"] == []
    assert len(three["cluster_sizes"]) == 4 and three["cluster_block"] == "audio_image"
    closed = compute_metrics(vectors, ["image", "text"], 10.0, None, closed_gap=True)
    plain = compute_metrics(vectors, ["image", "text"], 10.0, None)
    assert closed["gap_distance"] < 0.2 * plain["gap_distance"]
    assert closed["matched_cosine"] > plain["matched_cosine"]


@pytest.mark.parametrize("kwargs,needle", [({"modalities": ["image"]}, "two modalities"),
                                           ({"modalities": ["image", "smell"]}, "smell"),
                                           ({"cluster_method": "dbscan"}, "dbscan"),
                                           ({"cluster_block": "text_video"}, "text_video"),
                                           ({"loss": "hinge"}, "hinge"),
                                           ({"modalities": ["image", "short"]}, "dimensions"),
                                           ({"modalities": ["image", "few"]}, "row counts"),
                                           ({"clusters": 500}, "500 clusters")])
def test_metrics_bad_options(vectors, kwargs: dict, needle: str) -> None:
    vectors = vectors | {"short": vectors["text"][:, :8], "few": vectors["text"][:10]}
    options = {"modalities": ["image", "text"], "logit_scale": 1.0, "texts": None} | kwargs
    with pytest.raises(GapscopeError, match=needle):
        compute_metrics(vectors, **options)


def test_precompute_stores_every_artifact(tmp_path) -> None:
    store = build_synthetic_store(tmp_path / "store", n=60, dim=16)
    precompute(store, "synthetic", "synth-a", umap=False, tsne=False)
    keys = set(store.artifacts()["key"])
    assert {"summary", "faithfulness", "pca:gap", "pca:closed", "pairs_pca:gap", "pairs_pca:closed", "image_text",
            "amumo:10:text_image", "kmeans:10:text_image", "figures:image,text",
            "paired:synth-b", "paired:synth-a"} == keys  # Compare's rows: synth-a against synth-b, and back
    faithful = store.get_json("synthetic", "synth-a", artifacts.METRICS, "faithfulness")
    assert set(faithful) == {"pca:gap", "pca:closed", "pairs_pca:gap", "pairs_pca:closed"}
    assert 0.5 < faithful["pca:gap"]["trustworthiness"] <= 1 and 0 <= faithful["pca:gap"]["preserved"] <= 1
    summary = store.get_json("synthetic", "synth-a", artifacts.METRICS, "summary")
    paired = store.pairs("synthetic", "synth-a")
    assert summary["gap_distance"] == pytest.approx(gap_distance(paired.vectors["image"], paired.vectors["text"]))
    assert summary["logit_scale"] == 100.0
    frame = store.get_frame("synthetic", "synth-a", artifacts.PROJECTION, artifacts.projection_key("pca", closed=True))
    assert list(frame.columns) == ["item_id", "modality", "x", "y"] and len(frame) == 120
    closed = close_gaps(paired.vectors)
    assert gap_distance(closed["image"], closed["text"]) < summary["gap_distance"]
    key = artifacts.clusters_key("amumo", 10, "text_image")
    clusters = store.get_frame("synthetic", "synth-a", artifacts.CLUSTERS, key)
    assert list(clusters.columns) == ["item_id", "cluster", "label"] and clusters["label"].str.len().min() > 0
    landscape = store.get_json("synthetic", "synth-a", artifacts.LANDSCAPE, "image_text")
    assert len(landscape["deltas"]) == len(landscape["distances"]) == len(landscape["losses"]) == 40


def test_precompute_reuses_the_summary_ranks_for_the_pairs_view(tmp_path, monkeypatch) -> None:
    """The stored pairs-view figures are those of a separate pass, yet precompute makes no second pass."""
    store = build_synthetic_store(tmp_path / "store", n=70, dim=16)
    paired = store.pairs("synthetic", "synth-a")
    fresh = figures.figures_of(paired, "synth-a", ["image", "text"])
    calls = []
    real = figures.pair_ranks
    monkeypatch.setattr(figures, "pair_ranks", lambda a, b: calls.append(len(a)) or real(a, b))
    precompute_summary(store, "synthetic", "synth-a")
    stored = store.get_frame("synthetic", "synth-a", artifacts.PAIR_FIGURES, "figures:image,text")
    assert calls == [] and stored.equals(fresh) and stored["rank_image_to_text"].max() > 1


def test_precompute_with_umap_and_tsne(tmp_path) -> None:
    store = build_synthetic_store(tmp_path / "store", n=50, dim=16)
    precompute(store, "synthetic", "synth-b", umap=True, tsne=True)
    keys = set(store.artifacts()["key"])
    for method in ("umap", "tsne", "umap_oos"):
        for closed in (False, True):
            assert artifacts.projection_key(method, closed) in keys
    faithful = store.get_json("synthetic", "synth-b", artifacts.METRICS, "faithfulness")
    assert {"umap_oos:closed", "tsne:gap", "umap:gap"} <= set(faithful)
    oos = store.get_frame("synthetic", "synth-b", artifacts.PROJECTION, "umap_oos:gap")
    assert set(oos["modality"]) == {"image", "text"} and np.isfinite(oos[["x", "y"]].to_numpy()).all()
