"""Shift versus shape: the Fréchet distance between Gaussians fitted to two modalities, split into its terms, and
the energy distance of the two clouds before and after centring each modality.

Fréchet (2-Wasserstein) distance between N(mu_A, S_A) and N(mu_B, S_B) (Fréchet 1957; Dowson & Landau,
J. Multivariate Anal. 1982; the FID of Heusel et al., NeurIPS 2017):
    d^2 = ||mu_A - mu_B||^2 + Tr(S_A + S_B - 2 (S_A S_B)^(1/2))
The first term is the shift (the squared gap distance when the rows are L2-normalised), the second the difference
in shape; it is 0 when S_A = S_B. Tr((S_A S_B)^(1/2)) = sum_i sqrt(lambda_i) with lambda_i the eigenvalues of the
symmetric PSD matrix S_A^(1/2) S_B S_A^(1/2) (similar to S_A S_B), so only symmetric eigendecompositions in
float64 are needed. Covariances are the maximum-likelihood ones (divide by N).

Energy distance (Székely & Rizzo, J. Stat. Plan. Inference 2013), the V-statistic
    E(X, Y) = 2 mean_ij ||x_i - y_j|| - mean_ij ||x_i - x_j|| - mean_ij ||y_i - y_j||  >= 0,
0 exactly when the two empirical distributions coincide; it equals the MMD^2 of the distance-induced kernel
k(x, y) = ||x|| + ||y|| - ||x - y|| (Sejdinovic et al., Ann. Stat. 2013). "centred" subtracts each modality's
own mean first, so what survives is the part of the gap that mean-shifting cannot close. It costs N^2 distances,
so it is computed on at most ENERGY_SAMPLE rows (a seeded sample of the pairs, the same rows for both sides).
"""

import numpy as np

from dashboard.analysis.evaluation import seeded_rows
from dashboard.errors import GapscopeError

ENERGY_SAMPLE = 1000


def _check(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two 2-D float64 clouds of the same dimension with at least two rows each."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or min(len(a), len(b)) < 2:
        raise GapscopeError(f"frechet: need two 2-D clouds of equal dimension with >= 2 rows, got {a.shape}, {b.shape}")
    return a, b


def _sqrt_psd(s: np.ndarray) -> np.ndarray:
    """Symmetric square root of a PSD matrix (negative rounding eigenvalues clipped to 0)."""
    values, vectors = np.linalg.eigh(s)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def trace_sqrt_product(sa: np.ndarray, sb: np.ndarray) -> float:
    """Tr((S_A S_B)^(1/2)) from the eigenvalues of S_A^(1/2) S_B S_A^(1/2)."""
    root = _sqrt_psd(sa)
    middle = root @ sb @ root
    values = np.linalg.eigvalsh(0.5 * (middle + middle.T))
    return float(np.sqrt(np.clip(values, 0.0, None)).sum())


def frechet_split(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """The Fréchet distance^2 of Gaussians fitted to the rows of a and b, its shift and shape terms and shares."""
    a, b = _check(a, b)
    mean_a, mean_b = a.mean(axis=0), b.mean(axis=0)
    sa, sb = np.cov(a, rowvar=False, bias=True), np.cov(b, rowvar=False, bias=True)
    shift = float(np.sum((mean_a - mean_b) ** 2))
    shape = max(float(np.trace(sa) + np.trace(sb) - 2.0 * trace_sqrt_product(sa, sb)), 0.0)
    total = shift + shape
    return {"frechet": total, "shift": shift, "shape": shape,
            "shift_share": shift / total if total > 0 else 0.0, "shape_share": shape / total if total > 0 else 0.0}


def _mean_distance(x: np.ndarray, y: np.ndarray) -> float:
    """mean_ij ||x_i - y_j|| (float64 Gram, negative rounding clipped)."""
    sq = np.einsum("ij,ij->i", x, x)[:, None] + np.einsum("ij,ij->i", y, y)[None, :] - 2.0 * (x @ y.T)
    return float(np.sqrt(np.clip(sq, 0.0, None)).mean())


def energy_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Székely-Rizzo energy distance (V-statistic) between the rows of a and the rows of b."""
    a, b = _check(a, b)
    value = 2.0 * _mean_distance(a, b) - _mean_distance(a, a) - _mean_distance(b, b)
    return max(value, 0.0)


def shift_or_shape(a: np.ndarray, b: np.ndarray, seed: int = 0) -> dict[str, float]:
    """Fréchet split plus the energy distance before and after centring each modality (on the seeded sample)."""
    a, b = _check(a, b)
    rows = seeded_rows(len(a), seed, ENERGY_SAMPLE) if len(a) == len(b) else np.arange(min(len(a), len(b)))
    x, y = a[rows], b[rows]
    raw, centred = energy_distance(x, y), energy_distance(x - x.mean(axis=0), y - y.mean(axis=0))
    return frechet_split(a, b) | {"energy": raw, "energy_centred": centred,
                                  "energy_kept_share": centred / raw if raw > 0 else 0.0,
                                  "energy_rows": int(len(rows))}
