"""Temperature: the InfoNCE loss and the mean entropy of the softmaxed logits as the logit scale varies.

With L2-normalised pairs and cosines C = A B^T, the logits at scale s are L = s C (CLIP's learnt s = 1/tau,
Radford et al. 2021; Wang & Liu, "Understanding the behaviour of contrastive loss", CVPR 2021, on how tau trades
uniformity for tolerance). For each s on a log grid s_0 * 2^t, t in GRID (s_0 the model's own scale):
- the InfoNCE loss, (1/2N) sum_i [(lse_j L_ij - L_ii) + (lse_j L_ji - L_ii)], the symmetric objective of
  dashboard.analysis.loss, from the same exponentials as the entropy;
- the mean Shannon entropy of the row softmax p_ij = exp(L_ij) / sum_j exp(L_ij), H_i = lse_i - sum_j p_ij L_ij,
  for the a -> b queries, and likewise of the columns (b -> a); it falls from log N (uniform, s -> 0) to 0 (one-hot).
C is formed once on at most EVAL_PAIRS seeded pairs, so the grid costs one product; the loss there is over that
sample (a smaller gallery than the full set), comparable along the curve. Each row is shifted by its maximum once
(w = exp(s (C_ij - max_j C_ij)), so sum_j w_ij >= 1) and, since exp(2 s x) = exp(s x)^2, the grid needs two
exponentials per direction (its first whole and first half step); every later scale squares the weights of half its
value (at most 6 squarings: a relative error of a few dozen ulp, far below the figures' rounding).
"""

import numpy as np

from dashboard.analysis.evaluation import seeded_rows
from dashboard.errors import GapscopeError

GRID = tuple(float(t) for t in np.arange(-3.0, 3.01, 0.5))  # log2 of s / s_0


def _direction(shifted: np.ndarray, top: np.ndarray, s: float, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Log-sum-exp and softmax entropy (nats) along the rows of s * C, from the rows' C - max C (`shifted`), their
    maxima (`top`) and w = exp(s shifted): lse = s top + log sum w, H = log sum w - s sum w shifted / sum w."""
    total = weights.sum(axis=1)
    log_total = np.log(total)
    return s * top + log_total, log_total - s * np.einsum("ij,ij->i", weights, shifted) / total


def _exponentials(shifted: np.ndarray, scale: float) -> list[np.ndarray]:
    """exp(s shifted) for every s = scale 2^t of GRID: one exponential per chain of whole steps (the first whole
    and the first half step), every later one the square of the one a step of 1 (s / 2) before."""
    out: list[np.ndarray] = []
    for i, step in enumerate(GRID):
        before = i - int(round(1.0 / (GRID[1] - GRID[0])))
        out.append(np.square(out[before]) if before >= 0 else np.exp(float(scale) * 2.0 ** step * shifted))
    return out


def temperature_curve(a: np.ndarray, b: np.ndarray, scale: float, seed: int = 0, keep: dict | None = None) -> dict:
    """Loss and mean softmax entropy both ways over the log grid of scales around the model's `scale` (`keep`, if
    given, receives the evaluation rows and per scale the per-pair loss terms and entropies)."""
    if not np.isfinite(scale) or scale <= 0:
        raise GapscopeError(f"temperature: logit scale must be a positive number, got {scale}")
    rows = seeded_rows(len(a), seed)
    cosines = np.asarray(a, np.float64)[rows] @ np.asarray(b, np.float64)[rows].T
    # rows of C for a -> b, rows of C^T for b -> a (contiguous, so both directions reduce along rows)
    sides = [(m - m.max(axis=1, keepdims=True), m.max(axis=1)) for m in (cosines, np.ascontiguousarray(cosines.T))]
    weights = [_exponentials(shifted, scale) for shifted, _ in sides]
    matched = np.diag(cosines)
    curve = {"scale": [], "loss": [], "entropy_a_to_b": [], "entropy_b_to_a": []}
    for i, step in enumerate(GRID):
        s = float(scale) * 2.0 ** float(step)
        curve["scale"].append(s)
        (row_lse, row_entropy), (col_lse, col_entropy) = (_direction(shifted, top, s, w[i])
                                                          for (shifted, top), w in zip(sides, weights))
        diagonal = s * matched
        if keep is not None:
            keep.setdefault("terms", []).append({"loss": 0.5 * (row_lse + col_lse) - diagonal,
                                                 "entropy_a_to_b": row_entropy, "entropy_b_to_a": col_entropy})
            keep["rows"] = rows
        curve["loss"].append(0.5 * float(np.mean(row_lse - diagonal) + np.mean(col_lse - diagonal)))
        curve["entropy_a_to_b"].append(float(row_entropy.mean()))
        curve["entropy_b_to_a"].append(float(col_entropy.mean()))
    return curve | {"model_scale": float(scale), "max_entropy": float(np.log(len(rows))), "eval_pairs": int(len(rows))}
