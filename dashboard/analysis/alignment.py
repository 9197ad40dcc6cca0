"""Alignment and uniformity (Wang & Isola, ICML 2020) and the mean cosine of matched vs unmatched pairs.

For L2-normalised pairs (x_i, y_i):
- alignment  = (1/N) sum_i ||x_i - y_i||^alpha, alpha = 2 (0 when every pair coincides; lower is better);
- uniformity of one modality = log( mean_{i != j} exp(-t ||x_i - x_j||^2) ), t = 2 (lower = more uniform), using
  ||x_i - x_j||^2 = 2 - 2 x_i.x_j; computed in row chunks with log-sum-exp, never holding N x N; above
  `UNIFORMITY_MAX_N` rows a fixed-seed random subset of that size is used (an unbiased estimate);
- matched cosine = mean_i x_i.y_i; unmatched cosine = mean_{i != j} x_i.y_j = ((sum x).(sum y) - sum_i x_i.y_i)
  / (N^2 - N), exact in O(N d).
"""

import numpy as np
from scipy.special import logsumexp

from dashboard.analysis.similarity import normalize
from dashboard.errors import GapscopeError

UNIFORMITY_MAX_N = 10000
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
    z = normalize(x)
    if len(z) < 2:
        raise GapscopeError("uniformity: needs at least two rows")
    if len(z) > UNIFORMITY_MAX_N:
        z = z[np.sort(np.random.default_rng(seed).choice(len(z), UNIFORMITY_MAX_N, replace=False))]
    n, parts = len(z), []
    for start in range(0, n, _CHUNK):
        expo = -t * (2.0 - 2.0 * (z[start:start + _CHUNK] @ z.T).astype(np.float64))
        rows = np.arange(expo.shape[0])
        expo[rows, rows + start] = -np.inf
        parts.append(logsumexp(expo))
    return float(logsumexp(parts) - np.log(n * (n - 1.0)))


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
