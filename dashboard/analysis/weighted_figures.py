"""Figures of bootstrap resamples given as integer counts (a resample with counts c is the multiset holding c_i copies
of item i), computed exactly from per-item quantities of the full set, for every resample at once.

- Agreement of two clusterings at fixed labels: the contingency table of the multiset is T_pq = sum of c_i over
  the items labelled p by the first clustering and q by the second (one product of the counts with the one-hot
  cells), and both scores are functions of that table alone:
  - adjusted Rand index (Hubert & Arabie, J. Classif. 1985) in its pair-counting form, as scikit-learn's
    adjusted_rand_score: with n = sum T, S = sum T_pq^2, row sums r and column sums s, the pairs (ordered, distinct
    copies) together in both tp = S - n, in the first only fn = sum r^2 - S, in the second only fp = sum s^2 - S,
    in neither tn = n^2 - tp - fn - fp - n; ARI = 2 (tp tn - fn fp) / ((tp + fn)(fn + tn) + (tp + fp)(fp + tn)),
    1 when fn = fp = 0;
  - V-measure (Rosenberg & Hirschberg, EMNLP 2007), as v_measure_score: MI = sum_pq (T_pq / n) log(n T_pq / (r_p
    s_q)) (clipped at 0), H(first), H(second) the entropies of r / n and s / n, homogeneity MI / H(first) (1 when
    H(first) = 0), completeness MI / H(second) (likewise), V = 2 h c / (h + c) (0 when h + c = 0).
  Empty cells, rows and columns (items a resample left out) contribute nothing, as in the multiset.
- Pearson correlation over pairs of distinct items i < j of two symmetric matrices X, Y (in-modal cosines before
  and after a map), each pair weighted c_i c_j (the pairs of distinct items of the multiset that are not copies
  of one item): the weighted sums Q(M) = c M c' - sum_i c_i^2 M_ii of 1, X, Y, X*X, Y*Y, X*Y give the weighted
  means, variances and covariance (X and Y centred first at their unweighted off-diagonal means, which leaves the
  correlation as it is and keeps the sums small).
"""

import numpy as np


def contingency_tables(counts: np.ndarray, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """(R, p, q) weighted contingency tables of labellings 0..p-1 and 0..q-1 for the (R, n) counts."""
    p, q = int(first.max()) + 1, int(second.max()) + 1
    cells = np.eye(p * q)[np.asarray(first) * q + np.asarray(second)]
    return (np.asarray(counts, np.float64) @ cells).reshape(-1, p, q)


def adjusted_rand(tables: np.ndarray) -> np.ndarray:
    """Adjusted Rand index of every contingency table (R, p, q)."""
    n = tables.sum(axis=(1, 2))
    squares = (tables ** 2).sum(axis=(1, 2))
    tp = squares - n
    fn = (tables.sum(axis=2) ** 2).sum(axis=1) - squares
    fp = (tables.sum(axis=1) ** 2).sum(axis=1) - squares
    tn = n ** 2 - tp - fn - fp - n
    with np.errstate(invalid="ignore", divide="ignore"):
        score = 2.0 * (tp * tn - fn * fp) / ((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn))
    return np.where((fn == 0) & (fp == 0), 1.0, score)


def _plogp(shares: np.ndarray, axis: tuple[int, ...] | int) -> np.ndarray:
    """-sum p log p over `axis` (0 log 0 = 0)."""
    safe = np.where(shares > 0, shares, 1.0)
    return -(shares * np.log(safe)).sum(axis=axis)


def v_measure(tables: np.ndarray) -> np.ndarray:
    """V-measure (beta = 1) of every contingency table (R, p, q)."""
    n = tables.sum(axis=(1, 2))[:, None, None]
    rows, cols = tables.sum(axis=2, keepdims=True), tables.sum(axis=1, keepdims=True)
    outer = np.where(tables > 0, rows * cols, 1.0)
    ratio = np.where(tables > 0, n * tables / outer, 1.0)
    mutual = np.clip((tables / n * np.log(ratio)).sum(axis=(1, 2)), 0.0, None)
    h_first, h_second = _plogp(rows[:, :, 0] / n[:, :, 0], 1), _plogp(cols[:, 0, :] / n[:, 0, :], 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        homogeneity = np.where(h_first > 0, mutual / np.where(h_first > 0, h_first, 1.0), 1.0)
        completeness = np.where(h_second > 0, mutual / np.where(h_second > 0, h_second, 1.0), 1.0)
        total = homogeneity + completeness
        return np.where(total > 0, 2.0 * homogeneity * completeness / np.where(total > 0, total, 1.0), 0.0)


def _pair_sums(counts: np.ndarray, m: np.ndarray) -> np.ndarray:
    """sum_{i != j} c_i c_j M_ij for every row of counts."""
    return ((counts @ m) * counts).sum(axis=1) - counts ** 2 @ np.diag(m)


def pair_pearson(counts: np.ndarray, before: np.ndarray, after: np.ndarray, fallback: float) -> np.ndarray:
    """Pearson correlation of the off-diagonal entries of symmetric before/after over pairs i != j weighted
    c_i c_j, per row of counts; `fallback` where either side has no variance."""
    c = np.asarray(counts, np.float64)
    off = ~np.eye(len(before), dtype=bool)
    x, y = before - before[off].mean(), after - after[off].mean()
    weight = c.sum(axis=1) ** 2 - (c ** 2).sum(axis=1)
    mx, my = _pair_sums(c, x) / weight, _pair_sums(c, y) / weight
    vx, vy = _pair_sums(c, x * x) / weight - mx ** 2, _pair_sums(c, y * y) / weight - my ** 2
    cov = _pair_sums(c, x * y) / weight - mx * my
    scale = vx * vy
    return np.where(scale > 1e-24, cov / np.sqrt(np.where(scale > 1e-24, scale, 1.0)), fallback)
