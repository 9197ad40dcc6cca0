"""Shift versus shape: the Fréchet distance between Gaussians fitted to two modalities, split into its terms, and
the energy distance of the two clouds before and after centring each modality.

Fréchet (2-Wasserstein) distance between N(mu_A, S_A) and N(mu_B, S_B) (Fréchet 1957; Dowson & Landau,
J. Multivariate Anal. 1982; the FID of Heusel et al., NeurIPS 2017):
    d^2 = ||mu_A - mu_B||^2 + Tr(S_A + S_B - 2 (S_A S_B)^(1/2))
The first term is the shift (the squared gap distance when the rows are L2-normalised), the second the difference
in shape; it is 0 when S_A = S_B. Tr((S_A S_B)^(1/2)) = sum_i sqrt(lambda_i) with lambda_i the eigenvalues of the
symmetric PSD matrix S_A^(1/2) S_B S_A^(1/2) (similar to S_A S_B), so only symmetric eigendecompositions in
float64 are needed. Covariances are the maximum-likelihood ones (divide by N).

Energy distance (Székely & Rizzo, J. Stat. Plan. Inference 2013), as the U-statistic over pairs i != j
    E(X, Y) = 2 mean_{i!=j} ||x_i - y_j|| - mean_{i!=j} ||x_i - x_j|| - mean_{i!=j} ||y_i - y_j||
(the matched pairs i = j are left out of the cross term: the clouds are compared as distributions, not as pairs;
unbiased, so it may fall slightly below 0 when the distributions coincide, and it is 0 exactly for two clouds that
differ by a constant shift once centred); it is the MMD^2 of the distance-induced kernel
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


def moments(a: np.ndarray, b: np.ndarray) -> dict[str, np.ndarray]:
    """Means and maximum-likelihood covariances (divided by N) of two clouds: "mean_a", "cov_a", "mean_b", "cov_b"."""
    out = {}
    for side, x in zip("ab", _check(a, b)):
        mean = x.mean(axis=0)
        centred = x - mean
        out |= {f"mean_{side}": mean, f"cov_{side}": centred.T @ centred / len(x)}
    return out


def trace_sqrt_product(sa: np.ndarray, sb: np.ndarray) -> float:
    """Tr((S_A S_B)^(1/2)) from the eigenvalues of S_A^(1/2) S_B S_A^(1/2)."""
    root = _sqrt_psd(sa)
    middle = root @ sb @ root
    values = np.linalg.eigvalsh(0.5 * (middle + middle.T))
    return float(np.sqrt(np.clip(values, 0.0, None)).sum())


def frechet_split(a: np.ndarray, b: np.ndarray, given: dict | None = None) -> dict[str, float]:
    """The Fréchet distance^2 of Gaussians fitted to the rows of a and b, its shift and shape terms and shares (from
    their `moments` when given)."""
    given = given or moments(a, b)
    sa, sb = given["cov_a"], given["cov_b"]
    shift = float(np.sum((given["mean_a"] - given["mean_b"]) ** 2))
    shape = max(float(np.trace(sa) + np.trace(sb) - 2.0 * trace_sqrt_product(sa, sb)), 0.0)
    total = shift + shape
    return {"frechet": total, "shift": shift, "shape": shape,
            "shift_share": shift / total if total > 0 else 0.0, "shape_share": shape / total if total > 0 else 0.0}


def shape_influence(a: np.ndarray, b: np.ndarray, given: dict | None = None) -> np.ndarray:
    """Per-pair influence of the shape term (pairs resampled together): the first-order change of
    Tr(S_A + S_B - 2 (S_A S_B)^(1/2)) per unit weight on pair i, whose weighted mean linearises the term on a
    resample (infinitesimal jackknife, Jaeckel 1972). With u = a_i - mu_A, v = b_i - mu_B and the gradients of
    F = Tr((S_A S_B)^(1/2)), G_B = S_A^(1/2) (S_A^(1/2) S_B S_A^(1/2))^(-1/2) S_A^(1/2) / 2 (and G_A likewise),
    IF_i = |u|^2 - Tr S_A + |v|^2 - Tr S_B - 2 (u' G_A u - Tr(G_A S_A) + v' G_B v - Tr(G_B S_B)) (from their
    `moments` when given)."""
    a, b = _check(a, b)
    given = given or moments(a, b)
    u, v, sa, sb = a - given["mean_a"], b - given["mean_b"], given["cov_a"], given["cov_b"]
    ga, gb = _fidelity_gradient(sb, sa), _fidelity_gradient(sa, sb)
    quadratic = ((u @ ga) * u).sum(axis=1) + ((v @ gb) * v).sum(axis=1)
    squares = np.einsum("ij,ij->i", u, u) + np.einsum("ij,ij->i", v, v)
    return squares - np.trace(sa) - np.trace(sb) - 2.0 * (quadratic - np.sum(ga * sa) - np.sum(gb * sb))


def _fidelity_gradient(s: np.ndarray, t: np.ndarray) -> np.ndarray:
    """d Tr((S T)^(1/2)) / dT = S^(1/2) (S^(1/2) T S^(1/2))^(-1/2) S^(1/2) / 2 (tiny eigenvalues left out)."""
    root = _sqrt_psd(s)
    values, vectors = np.linalg.eigh(root @ t @ root)
    keep = values > 1e-10 * max(values.max(), 1e-300)
    inverse_root = (vectors[:, keep] / np.sqrt(values[keep])) @ vectors[:, keep].T
    return 0.5 * root @ inverse_root @ root


def distances(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """||x_i - y_j|| for all i, j (float64 Gram, negative rounding clipped)."""
    sq = np.einsum("ij,ij->i", x, x)[:, None] + np.einsum("ij,ij->i", y, y)[None, :] - 2.0 * (x @ y.T)
    return np.sqrt(np.clip(sq, 0.0, None))


def centred_distances(x: np.ndarray, y: np.ndarray, d: np.ndarray) -> np.ndarray:
    """||(x_i - mean x) - (y_j - mean y)|| from d_ij = ||x_i - y_j|| without another product: with delta = mean x -
    mean y, the square is d_ij^2 - 2 x_i.delta + 2 y_j.delta + |delta|^2 (negative rounding clipped)."""
    delta = x.mean(axis=0) - y.mean(axis=0)
    sq = d ** 2 - 2.0 * (x @ delta)[:, None] + 2.0 * (y @ delta)[None, :] + delta @ delta
    return np.sqrt(np.clip(sq, 0.0, None))


def off_diagonal_mean(m: np.ndarray) -> float:
    """Mean of a square matrix over i != j."""
    n = len(m)
    return float((m.sum() - np.trace(m)) / (n * n - n))


def energy_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Székely-Rizzo energy distance (U-statistic over pairs i != j) between the equally many rows of a and b."""
    a, b = _check(a, b)
    return 2.0 * off_diagonal_mean(distances(a, b)) - off_diagonal_mean(distances(a, a)) - \
        off_diagonal_mean(distances(b, b))


def shift_or_shape(a: np.ndarray, b: np.ndarray, seed: int = 0, keep: dict | None = None,
                   given: dict | None = None) -> dict[str, float]:
    """Fréchet split (from the clouds' `moments` when given) plus the energy distance before and after centring each
    modality (on the seeded sample); centring leaves the in-modal distances as they are, so four distance matrices
    serve both. `keep` (if given) receives the sample rows and those matrices ("ab", "aa", "bb", "ab_centred")."""
    a, b = _check(a, b)
    rows = seeded_rows(len(a), seed, ENERGY_SAMPLE) if len(a) == len(b) else np.arange(min(len(a), len(b)))
    x, y = a[rows], b[rows]
    d = {"ab": distances(x, y), "aa": distances(x, x), "bb": distances(y, y)}
    d["ab_centred"] = centred_distances(x, y, d["ab"])
    within = off_diagonal_mean(d["aa"]) + off_diagonal_mean(d["bb"])
    raw, centred = 2.0 * off_diagonal_mean(d["ab"]) - within, 2.0 * off_diagonal_mean(d["ab_centred"]) - within
    if keep is not None:
        keep |= {"rows": rows, "distances": d}
    return frechet_split(a, b, given) | {"energy": float(raw), "energy_centred": float(centred),
                                  "energy_kept_share": float(centred / raw) if raw > 0 else 0.0,
                                  "energy_rows": int(len(rows))}
