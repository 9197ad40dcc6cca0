"""Checks on embeddings before they enter a store: shape, dimension, NaN and zero vectors.

The fast path is one pass of squared row norms: a row with a NaN or infinity has a non-finite norm, a zero row a
zero norm; only when some norm is not finite and positive (which a huge or tiny finite row can also cause) are the
rows checked element by element, so the outcome is exact either way."""
from __future__ import annotations

import numpy as np

from dashboard.errors import GapscopeError


def check_vectors(what: str, item_ids: list[str], vectors: np.ndarray, dim: int) -> None:
    """Raise a one-line error naming the first bad item, else return."""
    vectors = np.asarray(vectors)
    if vectors.ndim != 2 or vectors.shape[0] != len(item_ids):
        raise GapscopeError(f"{what}: {len(item_ids)} item ids but embeddings of shape {vectors.shape}")
    if vectors.shape[1] != dim:
        raise GapscopeError(f"{what}: embeddings have dimension {vectors.shape[1]}, the model has {dim}")
    norms = np.einsum("ij,ij->i", vectors, vectors) if vectors.dtype.kind == "f" else None
    if norms is not None and np.isfinite(norms).all() and (norms > 0).all():
        return  # every row finite and non-zero (an overflow or underflow of the squares is checked below)
    finite = np.isfinite(vectors).all(axis=1)
    if not finite.all():
        raise GapscopeError(f"{what}: item {item_ids[int(np.argmin(finite))]} has a NaN or infinite embedding")
    nonzero = (vectors != 0).any(axis=1)
    if not nonzero.all():
        raise GapscopeError(f"{what}: item {item_ids[int(np.argmin(nonzero))]} has a zero embedding")
