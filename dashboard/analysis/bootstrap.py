"""Seeded nonparametric bootstrap over items, with percentile intervals and paired differences.

The items (pairs) are resampled with replacement (Efron 1979; Efron & Tibshirani, "An Introduction to the
Bootstrap", 1993). A resample is a vector of integer counts c (c_i copies of item i, sum c_i = n): B resamples are
one (B, n) count matrix drawn once from a seeded generator (integer draws and bincount only, so the same seed gives
the same counts on every CPU). A statistic is a function of that count matrix and per-item arrays computed once on
the full set; it returns B replicates. Nothing is ever recomputed per resample:
- the mean of a per-item quantity v (loss term, rank <= K indicator, cosine, ...) is (c @ v) / n; items without a
  term (NaN, e.g. a loss batch remainder) are left out of both sums (`weighted_means`);
- a mean vector (a modality centroid) is (c @ X) / n, all B at once in one product (`weighted_sums`);
- a mean over pairs of distinct items i != j of x_i . y_j (unmatched cosine, the intra-modality cosine of the
  relative gap) is exact in O(B n d): sum_{i != j} c_i c_j x_i.y_j = (c X).(c Y) - sum_i c_i^2 x_i.y_i, divided
  by sum_{i != j} c_i c_j = n^2 - sum_i c_i^2 (`distinct_pair_mean`);
- a mean over pairs of a kernel that is not linear in the vectors (uniformity's exp(-t ||x_i - x_j||^2)) would need
  B n^2 work; it is bootstrapped through its first-order (Hajek / Hoeffding) projection: with h_i the mean of the
  kernel over j != i on the full set and U = mean_i h_i, the weighted U-statistic is U + 2 sum_i (w_i - 1/n) h_i +
  O(1/n) in the weights w = c / n (the infinitesimal jackknife, Jaeckel 1972; Efron 1982, ch. 6), and a function
  f(U) is linearised as f(U) + f'(U) 2 sum_i (w_i - 1/n) h_i (`projected_replicates`). The second-order term, whose
  variance is O(1/n^2) against the projection's O(1/n), is dropped.

Intervals are bias-corrected percentile intervals (BC: Efron 1982, "The jackknife, the bootstrap and other
resampling plans", ch. 10; Efron & Tibshirani 1993, ch. 14 with acceleration 0): with z0 = Phi^-1(share of
replicates below the full-set estimate, ties counted half) the interval is the Phi(2 z0 -/+ z_{(1+confidence)/2})
quantiles of the B replicates (numpy's linear interpolation); z0 = 0 gives the plain percentile interval
(ch. 13). Percentile-type, not normal or basic, because it respects the range of every figure (recalls in [0, 1],
distances >= 0) and any monotone transformation; bias-corrected because the gap distance, a norm of a mean, is
biased upward (E||g*|| > ||g||), which shifts the plain percentile interval away from the truth (its coverage
falls to about 86 % at n = 300 in tests/analysis/test_bootstrap.py; BC restores it), and BC keeps the estimate
inside the interval whenever |z0| < z_{(1+confidence)/2}. No acceleration (full BCa), because it needs a jackknife
of every figure and its effect, the skewness of a mean, is O(n^-1/2) and below the Monte-Carlo noise of B = 200;
BCa's extreme quantiles also need B >= 1000 or so to settle (ch. 19). At a boundary (a closed gap, whose resampled
norms all exceed 0) no percentile-type interval contains the estimate.

Paired comparison (two models on the same items): both are evaluated on the same count matrix, and the interval of
the B differences is taken; the difference is significant when that interval excludes 0 (a model against itself
gives exactly [0, 0], not significant).

Determinism: counts are integers; products are float64 (numpy/BLAS), whose summation order changes results by
about 1e-16 relative, and quantiles are continuous in the replicates, so intervals agree to ~1e-12 across BLAS
kernels and thread counts. Items are taken in fixed chunks of ITEM_CHUNK so memory stays bounded.

A new figure gets an interval by being written as a `Statistic`: a function of the (B, n) counts (and of per-item
arrays computed once), built from the helpers here; `bootstrap_interval(statistic, n, B, confidence, seed)` then
gives its interval, and evaluating two models' statistics on the same `resample_counts` gives paired differences.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from scipy.special import ndtr, ndtri

from dashboard.errors import GapscopeError

ITEM_CHUNK = 8192  # items per product, so that (B, chunk) and (chunk, d) float64 blocks stay small
TIE = 1e-9  # replicates within TIE (relative) of the estimate count as equal to it: kernel-proof bias correction
Statistic = Callable[[np.ndarray], np.ndarray]  # (B, n) integer counts -> (B,) replicates


def resample_counts(n: int, b: int, seed: int = 0) -> np.ndarray:
    """(b, n) int64 counts of b seeded resamples of n items with replacement (each row sums to n)."""
    if n < 1 or b < 1:
        raise GapscopeError(f"bootstrap: needs at least one item and one resample, got n={n}, B={b}")
    rng = np.random.default_rng(seed)
    counts = np.empty((b, n), dtype=np.int64)
    for row in range(b):
        counts[row] = np.bincount(rng.integers(0, n, size=n), minlength=n)
    return counts


def weighted_sums(counts: np.ndarray, values: np.ndarray) -> np.ndarray:
    """c @ values for every resample: (B, n) x (n,) or (n, k) -> (B,) or (B, k), in float64, chunked over items."""
    values = np.asarray(values, dtype=np.float64)
    total = np.zeros((counts.shape[0],) + values.shape[1:])
    for start in range(0, counts.shape[1], ITEM_CHUNK):
        stop = start + ITEM_CHUNK
        total += np.asarray(counts[:, start:stop], dtype=np.float64) @ values[start:stop]
    return total


def weighted_means(counts: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Resampled means of per-item values (n,) or (n, k); NaN entries are items without a term, left out."""
    values = np.asarray(values, dtype=np.float64)
    columns = values.reshape(len(values), -1)
    present = np.isfinite(columns)
    sums = weighted_sums(counts, np.concatenate([np.where(present, columns, 0.0), present], axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums[:, :columns.shape[1]] / sums[:, columns.shape[1]:]
    return means.reshape((counts.shape[0],) + values.shape[1:])


def squared_count_sums(counts: np.ndarray) -> np.ndarray:
    """sum_i c_i^2 per resample (exact integers)."""
    return np.einsum("bi,bi->b", counts, counts)


def distinct_pair_mean(counts: np.ndarray, sum_x: np.ndarray, sum_y: np.ndarray, matched: np.ndarray) -> np.ndarray:
    """Resampled mean of x_i . y_j over pairs of distinct items, from c X, c Y (B, d) and x_i . y_i (n,)."""
    n = counts.shape[1]
    if n < 2:
        raise GapscopeError("bootstrap: a mean over distinct pairs needs at least two items")
    squares = counts.astype(np.float64) ** 2
    diagonal = weighted_sums(squares, matched)
    pairs = float(n) * n - squared_count_sums(counts)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (np.einsum("bk,bk->b", sum_x, sum_y) - diagonal) / pairs


def projected_replicates(counts: np.ndarray, row_means: np.ndarray, value: float,
                         derivative: float = 1.0) -> np.ndarray:
    """Replicates of f(U) for a U-statistic U with per-item kernel means h (NaN: not in the U-statistic's sample):
    f(U) + f'(U) 2 sum_i (w_i - 1/m) h_i, with w the counts of the m items in the sample, normalised."""
    present = np.isfinite(row_means)
    h = np.where(present, row_means, 0.0)
    m = int(present.sum())
    weight = weighted_sums(counts, present.astype(np.float64))
    with np.errstate(invalid="ignore", divide="ignore"):
        shift = weighted_sums(counts, h) / weight - h.sum() / m
    return value + derivative * 2.0 * shift


def _bias_correction(replicates: np.ndarray, estimate: float) -> float:
    """z0 = Phi^-1(share of replicates below the estimate), ties (within TIE) counted half, the share kept
    within [1/(2B), 1 - 1/(2B)]."""
    tie = TIE * (1.0 + abs(estimate))
    below = np.count_nonzero(replicates < estimate - tie) + 0.5 * np.count_nonzero(abs(replicates - estimate) <= tie)
    share = min(max(below / len(replicates), 0.5 / len(replicates)), 1.0 - 0.5 / len(replicates))
    return float(ndtri(share))


def percentile_interval(replicates: np.ndarray, confidence: float = 0.95,
                        estimate: float | None = None) -> tuple[float, float]:
    """The bias-corrected percentile interval of the replicates around the full-set estimate (the plain
    percentile interval, quantiles (1 -/+ confidence)/2, without an estimate); NaN replicates are ignored."""
    if not 0.0 < confidence < 1.0:
        raise GapscopeError(f"bootstrap: confidence must lie strictly between 0 and 1, got {confidence}")
    finite = np.asarray(replicates, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    if not len(finite):
        return float("nan"), float("nan")
    levels = np.array([(1.0 - confidence) / 2.0, (1.0 + confidence) / 2.0])
    if estimate is not None and np.isfinite(estimate):
        z0 = _bias_correction(finite, float(estimate))
        levels = ndtr(2.0 * z0 + ndtri(levels))
    lo, hi = np.quantile(finite, levels)
    return float(lo), float(hi)


def paired_difference(first: np.ndarray, second: np.ndarray, confidence: float = 0.95,
                      estimate: float | None = None) -> dict:
    """Interval of second - first over replicates on the same resamples (bias-corrected around the full-set
    difference when given), and whether it excludes 0."""
    lo, hi = percentile_interval(np.asarray(second) - np.asarray(first), confidence, estimate)
    return {"interval": [lo, hi], "significant": bool(lo > 0.0 or hi < 0.0)}


def bootstrap_interval(statistic: Statistic, n: int, b: int = 200, confidence: float = 0.95,
                       seed: int = 0) -> tuple[float, float]:
    """The bias-corrected percentile interval of any statistic of the resample counts of n items (its full-set
    value is the statistic at one count per item)."""
    estimate = float(statistic(np.ones((1, n), dtype=np.int64))[0])
    return percentile_interval(statistic(resample_counts(n, b, seed)), confidence, estimate)
