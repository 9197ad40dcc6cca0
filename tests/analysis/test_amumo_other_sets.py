"""Amumo's numbers on its image-text-audio Triplet set (ImageBind) and its microscopy-molecule CLOOME set."""
import numpy as np
import pytest
from conftest import blocks, gram, meta, prompts

from dashboard.analysis.clustering import amumo_clusters, cluster_sizes, ngram_labels, sort_order
from dashboard.analysis.gap import gap_distance, gap_report
from dashboard.analysis.loss import contrastive_loss
from dashboard.metrics import cluster_summary

TRIPLET, CLOOME = "Triplet_size-100", "CLOOMDataset_size-100"
ORDER = ["image", "text", "audio"]


def triplet() -> dict[str, np.ndarray]:
    """The Triplet set's rebuilt embeddings by modality ([image; text; audio])."""
    return dict(zip(ORDER, blocks(TRIPLET, "ImageBind", 3)))


@pytest.mark.parametrize("pair", ["audio_image", "text_image", "text_audio"])
def test_triplet_gap_and_loss(pair: str) -> None:
    first, second = pair.split("_")
    vectors, expected = triplet(), meta(TRIPLET, "ImageBind")
    assert abs(gap_distance(vectors[first], vectors[second]) - expected["gap_distance"][pair]) < 1e-6
    loss = contrastive_loss(vectors[first], vectors[second], "image_to_text", 1.0, batch_size=50)
    assert abs(loss - expected["loss"][pair]) < 1e-5


def test_triplet_gap_report_has_every_pair() -> None:
    report = gap_report(triplet())
    assert set(report) == {"image_text", "image_audio", "text_audio"}
    assert abs(report["image_audio"]["distance"] - meta(TRIPLET, "ImageBind")["gap_distance"]["audio_image"]) < 1e-6


@pytest.mark.parametrize("key", sorted(meta(TRIPLET, "ImageBind")["clusters"]))
def test_triplet_clusters(key: str) -> None:
    # Amumo's key "X_Y" names the block with rows Y and columns X.
    columns, rows = key.split("_")
    expected = meta(TRIPLET, "ImageBind")["clusters"][key]
    summary = cluster_summary(triplet(), prompts(TRIPLET), 10, "amumo", f"{rows}_{columns}", ORDER)
    assert summary["cluster_sizes"] == expected["cluster_sizes"]
    assert summary["cluster_labels"] == expected["cluster_labels"]
    assert sorted(summary["cluster_sort_idcs"]) == list(range(100))


@pytest.mark.parametrize("name", ["CLOOME_CLIP", "CLOOME_CLOOB", "CLOOME_CLIP_nogap", "CLOOME_CLOOB_nogap"])
def test_cloome(name: str) -> None:
    images, molecules = blocks(CLOOME, name)
    expected = meta(CLOOME, name)
    assert abs(gap_distance(images, molecules) - expected["gap_distance"]) < 1e-6
    assert abs(contrastive_loss(images, molecules, "image_to_text", 1.0, 50) - expected["loss"]) < 1e-5
    labels = amumo_clusters(gram(CLOOME, name)[100:, :100], 10)
    assert cluster_sizes(labels) == expected["cluster_sizes"]
    assert len(ngram_labels(prompts(CLOOME), labels)) == 10
    assert len(sort_order(labels)) == 100
