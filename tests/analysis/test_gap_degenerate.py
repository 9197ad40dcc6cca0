"""The gap analysis of a sweep whose caption is fixed (every text vector the same) is None, not an error."""
import numpy as np

from dashboard.gap_explained import explain_gap
from dashboard.metrics import compute_metrics


def test_a_modality_of_one_repeated_point_has_no_gap_analysis():
    rng = np.random.default_rng(0)
    images = rng.normal(size=(40, 16))
    texts = np.repeat(rng.normal(size=(1, 16)), 40, axis=0)
    assert explain_gap(images, texts, 10.0) is None
    metrics = compute_metrics({"image": images, "text": texts}, ["image", "text"], 10.0, None, bootstrap=20)
    assert metrics["gap_analysis"] is None
    assert metrics["gap_distance"] > 0


def test_two_distinct_points_still_get_the_analysis():
    rng = np.random.default_rng(1)
    images = rng.normal(size=(40, 16))
    texts = np.repeat(rng.normal(size=(2, 16)), 20, axis=0)
    block = explain_gap(images, texts, 10.0)
    assert block is not None and set(block["closing"]["methods"]) >= {"centring", "whitening"}
