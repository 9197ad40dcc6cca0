"""Rebuild row vectors from a Gram (cosine-similarity) matrix.

A symmetric positive semi-definite matrix G (n x n) factors as G = V diag(l) V^T (eigendecomposition).
X = V diag(sqrt(l)) restricted to the eigenvalues l > tol * max(l) satisfies X X^T = G up to the dropped
(numerically null) part, and is unique up to an orthogonal rotation of its columns. Every quantity gapscope
computes (cosines, means, norms, PCA, linkage on cosines) is rotation-invariant, so these vectors stand in for
the embeddings Amumo did not export (its `similarities/<Model>.csv` files are such Gram matrices).
"""

import numpy as np

from dashboard.errors import GapscopeError


def embeddings_from_gram(gram: np.ndarray, tol: float = 1e-9) -> np.ndarray:
    """Row vectors X (n x r, float64) with X X^T == gram; negative/tiny eigenvalues are clipped and dropped."""
    g = np.asarray(gram, dtype=np.float64)
    if g.ndim != 2 or g.shape[0] != g.shape[1]:
        raise GapscopeError(f"Gram matrix: expected a square matrix, got shape {g.shape}")
    if not np.all(np.isfinite(g)):
        raise GapscopeError("Gram matrix: contains NaN or infinite values")
    scale = max(float(np.abs(g).max()), 1.0) if g.size else 1.0
    if not np.allclose(g, g.T, rtol=0.0, atol=1e-6 * scale):
        raise GapscopeError("Gram matrix: not symmetric")
    values, vectors = np.linalg.eigh((g + g.T) / 2.0)
    top = float(values.max()) if values.size else 0.0
    keep = values > tol * max(top, 0.0)
    order = np.argsort(values[keep])[::-1]
    values = values[keep][order]
    vectors = vectors[:, keep][:, order]
    return vectors * np.sqrt(values)
