"""Alignment and uniformity (Wang & Isola, ICML 2020) and the mean cosine of matched vs unmatched pairs.

For L2-normalised pairs (x_i, y_i):
- alignment  = (1/N) sum_i ||x_i - y_i||^alpha, alpha = 2 (0 when every pair coincides; lower is better);
- uniformity of one modality = log( mean_{i != j} exp(-t ||x_i - x_j||^2) ), t = 2 (lower = more uniform), using
  ||x_i - x_j||^2 = 2 - 2 x_i.x_j (the exponent lies in [-4t, 0], so no overflow); summed over i < j only, in row
  chunks, never holding N x N; above `UNIFORMITY_MAX_N` rows a fixed-seed random subset of that size is used;
  the same pass gives each row's mean kernel over j != i, the per-item terms of its bootstrap (analysis.bootstrap);
- matched cosine = mean_i x_i.y_i; unmatched cosine = mean_{i != j} x_i.y_j = ((sum x).(sum y) - sum_i x_i.y_i)
  / (N^2 - N), exact in O(N d).
"""

import numpy as np

from dashboard.analysis.similarity import normalize
from dashboard.errors import GapscopeError

UNIFORMITY_MAX_N = 5000
_CHUNK = 2048


def _pair(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both blocks normalised, checked to be aligned pairs."""
    x, y = normalize(a, "first modality"), normalize(b, "second modality")
    if x.shape != y.shape:
        raise GapscopeError(f"pairs: blocks differ in shape ({x.shape} vs {y.shape})")
    return x, y


def alignment(a: np.ndarray, b: np.ndarray, alpha: float = 2.0) -> float:
    """Mean ||x_i - y_i||^alpha over matched pairs."""
    x, y = _pair(a, b)
    return float(np.mean(np.linalg.norm(x - y, axis=1) ** alpha))


def uniformity(x: np.ndarray, t: float = 2.0, seed: int = 0) -> float:
    """log mean_{i != j} exp(-t ||x_i - x_j||^2) of one modality's normalised rows."""
    return uniformity_terms(x, t, seed)[0]


def uniformity_terms(x: np.ndarray, t: float = 2.0, seed: int = 0) -> tuple[float, np.ndarray]:
    """Uniformity and, per row, the mean kernel exp(-t ||x_i - x_j||^2) over j != i (NaN for rows outside the
    subset used above UNIFORMITY_MAX_N rows): the per-item terms its bootstrap resamples."""
    z = normalize(x)
    if len(z) < 2:
        raise GapscopeError("uniformity: needs at least two rows")
    rows = np.arange(len(z))
    if len(z) > UNIFORMITY_MAX_N:
        rows = np.sort(np.random.default_rng(seed).choice(len(z), UNIFORMITY_MAX_N, replace=False))
        z = z[rows]
    n, upper, sums = len(z), 0.0, np.zeros(len(z))
    for start in range(0, n, _CHUNK):
        stop = min(start + _CHUNK, n)
        block = z[start:stop] @ z[start:].T  # rows i in the chunk, columns j >= start
        block -= 1.0
        block *= 2.0 * t  # -t ||x_i - x_j||^2 = 2t (x_i.x_j - 1), within [-4t, 0]: exp needs no shift
        np.exp(block, out=block)
        square = block[:, :stop - start]
        upper += float(block[:, stop - start:].sum(dtype=np.float64))
        upper += 0.5 * float(square.sum(dtype=np.float64) - np.trace(square, dtype=np.float64))
        sums[start:stop] += block.sum(axis=1, dtype=np.float64) - np.diagonal(square).astype(np.float64)
        sums[stop:] += block[:, stop - start:].sum(axis=0, dtype=np.float64)
    row_means = np.full(len(x), np.nan)
    row_means[rows] = sums / (n - 1.0)
    return float(np.log(2.0 * upper / (n * (n - 1.0)))), row_means


def matched_cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Mean cosine of the true pairs."""
    x, y = _pair(a, b)
    return float(np.einsum("ij,ij->", x, y, dtype=np.float64) / len(x))


def unmatched_cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Mean cosine of all non-matching cross-modal pairs (i != j)."""
    x, y = _pair(a, b)
    n = len(x)
    if n < 2:
        raise GapscopeError("unmatched cosine: needs at least two pairs")
    total = float(x.sum(axis=0, dtype=np.float64) @ y.sum(axis=0, dtype=np.float64))
    return (total - float(np.einsum("ij,ij->", x, y, dtype=np.float64))) / (n * n - n)
