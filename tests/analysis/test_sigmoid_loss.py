"""SigLIP's sigmoid loss against open_clip's SigLipLoss (the reference training code), chunked and batched."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from dashboard.analysis import sigmoid_loss as module
from dashboard.analysis.sigmoid_loss import sigmoid_loss
from dashboard.errors import GapscopeError


def pairs(n: int, d: int = 12, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Paired rows with a shared component, so positives score above negatives."""
    rng = np.random.default_rng(seed)
    shared = rng.normal(size=(n, d))
    return shared + 0.5 * rng.normal(size=(n, d)), shared + 0.5 * rng.normal(size=(n, d)) + 1.0


def open_clip_loss(a: np.ndarray, b: np.ndarray, scale: float, bias: float) -> float:
    """open_clip.loss.SigLipLoss on normalised float64 features."""
    from open_clip.loss import SigLipLoss
    x, y = (torch.nn.functional.normalize(torch.from_numpy(v), dim=-1) for v in (a, b))
    return float(SigLipLoss()(x, y, torch.tensor(scale, dtype=torch.float64), torch.tensor(bias, dtype=torch.float64)))


@pytest.mark.parametrize("scale, bias", [(10.0, -10.0), (117.3, -12.9), (1.0, 0.0)])
def test_matches_open_clips_siglip_loss(scale, bias):
    a, b = pairs(57)
    assert sigmoid_loss(a, b, scale, bias) == pytest.approx(open_clip_loss(a, b, scale, bias), rel=1e-12)


def test_row_chunks_and_batches(monkeypatch):
    a, b = pairs(50, seed=3)
    whole = sigmoid_loss(a, b, 20.0, -5.0)
    monkeypatch.setattr(module, "CHUNK_CELLS", 7 * 50)
    assert sigmoid_loss(a, b, 20.0, -5.0) == pytest.approx(whole, rel=1e-12)
    batched = np.mean([open_clip_loss(a[s:s + 16], b[s:s + 16], 20.0, -5.0) for s in (0, 16, 32)])
    assert sigmoid_loss(a, b, 20.0, -5.0, batch_size=16) == pytest.approx(batched, rel=1e-12)


def test_float32_inputs_keep_float64_sums():
    a, b = pairs(200, seed=4)
    assert sigmoid_loss(a.astype(np.float32), b.astype(np.float32), 10.0, -10.0) == pytest.approx(
        sigmoid_loss(a, b, 10.0, -10.0), rel=1e-5)


def test_aligned_pairs_score_lower_than_shuffled_ones():
    a, b = pairs(80, seed=5)
    assert sigmoid_loss(a, b, 10.0, -10.0) < sigmoid_loss(a, b[::-1], 10.0, -10.0)


@pytest.mark.parametrize("args, message", [((20.0, float("nan")), "finite bias"), ((0.0, -1.0), "positive logit"),
                                           ((10.0, -1.0, 0), "batch size 0"), ((10.0, -1.0, 11), "batch size 11")])
def test_bad_options_are_one_line_errors(args, message):
    a, b = pairs(10)
    with pytest.raises(GapscopeError, match=message):
        sigmoid_loss(a, b, *args)
    with pytest.raises(GapscopeError, match="differ in shape"):
        sigmoid_loss(a, b[:5], 10.0, -10.0)
