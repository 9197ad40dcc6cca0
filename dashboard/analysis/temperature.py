"""Temperature: the InfoNCE loss and the mean entropy of the softmaxed logits as the logit scale varies.

With L2-normalised pairs and cosines C = A B^T, the logits at scale s are L = s C (CLIP's learnt s = 1/tau,
Radford et al. 2021; Wang & Liu, "Understanding the behaviour of contrastive loss", CVPR 2021, on how tau trades
uniformity for tolerance). For each s on a log grid s_0 * 2^t, t in GRID (s_0 the model's own scale):
- the InfoNCE loss, (1/2N) sum_i [(lse_j L_ij - L_ii) + (lse_j L_ji - L_ii)], the symmetric objective of
  dashboard.analysis.loss, from the same exponentials as the entropy;
- the mean Shannon entropy of the row softmax p_ij = exp(L_ij) / sum_j exp(L_ij), H_i = lse_i - sum_j p_ij L_ij,
  for the a -> b queries, and likewise of the columns (b -> a); it falls from log N (uniform, s -> 0) to 0 (one-hot).
C is formed once on at most EVAL_PAIRS seeded pairs, so the grid costs one product; the loss there is over that
sample (a smaller gallery than the full set), comparable along the curve.
"""

import numpy as np

from dashboard.analysis.evaluation import seeded_rows
from dashboard.errors import GapscopeError

GRID = tuple(float(t) for t in np.arange(-3.0, 3.01, 0.5))  # log2 of s / s_0


def _direction(logits: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """Log-sum-exp and softmax entropy (nats) along axis, from one exponential pass."""
    top = logits.max(axis=axis, keepdims=True)
    weights = np.exp(logits - top)
    total = weights.sum(axis=axis)
    lse = np.squeeze(top, axis) + np.log(total)
    return lse, lse - (weights * logits).sum(axis=axis) / total


def temperature_curve(a: np.ndarray, b: np.ndarray, scale: float, seed: int = 0, keep: dict | None = None) -> dict:
    """Loss and mean softmax entropy both ways over the log grid of scales around the model's `scale` (`keep`, if
    given, receives the evaluation rows and per scale the per-pair loss terms and entropies)."""
    if not np.isfinite(scale) or scale <= 0:
        raise GapscopeError(f"temperature: logit scale must be a positive number, got {scale}")
    rows = seeded_rows(len(a), seed)
    cosines = np.asarray(a, np.float64)[rows] @ np.asarray(b, np.float64)[rows].T
    curve = {"scale": [], "loss": [], "entropy_a_to_b": [], "entropy_b_to_a": []}
    for step in GRID:
        s = float(scale) * 2.0 ** float(step)
        logits = s * cosines
        curve["scale"].append(s)
        (row_lse, row_entropy), (col_lse, col_entropy) = _direction(logits, 1), _direction(logits, 0)
        diagonal = np.diag(logits)
        if keep is not None:
            keep.setdefault("terms", []).append({"loss": 0.5 * (row_lse + col_lse) - diagonal,
                                                 "entropy_a_to_b": row_entropy, "entropy_b_to_a": col_entropy})
            keep["rows"] = rows
        curve["loss"].append(0.5 * float(np.mean(row_lse - diagonal) + np.mean(col_lse - diagonal)))
        curve["entropy_a_to_b"].append(float(row_entropy.mean()))
        curve["entropy_b_to_a"].append(float(col_entropy.mean()))
    return curve | {"model_scale": float(scale), "max_entropy": float(np.log(len(rows))), "eval_pairs": int(len(rows))}
