"""Cosine similarity of the concatenated modalities.

Each row x is L2-normalised, x / ||x||_2, so that the dot product of two rows is their cosine. The similarity
matrix of k blocks of N rows is S = Z Z^T with Z = [norm(X_1); ...; norm(X_k)] (kN x kN), the matrix Amumo
(Humer et al., JVI 2024; `get_similarities_all` in amumo/utils.py) shows as its heatmap.
"""

import numpy as np

from dashboard.errors import GapscopeError


def normalize(x: np.ndarray, name: str = "embeddings") -> np.ndarray:
    """Rows scaled to unit L2 norm (float32 stays float32, anything else becomes float64)."""
    x = np.asarray(x)
    x = x if x.dtype in (np.float32, np.float64) else x.astype(np.float64)
    if x.ndim != 2:
        raise GapscopeError(f"{name}: expected a 2-D array of row vectors, got shape {x.shape}")
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    bad = ~np.isfinite(norms[:, 0]) | (norms[:, 0] == 0)
    if bad.any():
        raise GapscopeError(f"{name}: row {int(np.flatnonzero(bad)[0])} is a zero or non-finite vector")
    return x / norms


def similarity_matrix(blocks: list[np.ndarray]) -> np.ndarray:
    """Cosine similarity (kN x kN) of the row-wise concatenation of the L2-normalised blocks."""
    if not blocks:
        raise GapscopeError("similarity matrix: no blocks given")
    dims = {np.asarray(b).shape[-1] for b in blocks}
    if len(dims) != 1:
        raise GapscopeError(f"similarity matrix: blocks have different dimensions {sorted(dims)}")
    z = np.concatenate([normalize(b, f"block {i}") for i, b in enumerate(blocks)], axis=0)
    return z @ z.T
