"""Closing the modality gap (Liang et al. 2022; Amumo's `get_closed_modality_gap`, amumo/utils.py).

With L2-normalised A, B and gap g = mean(A) - mean(B), a fraction f of the gap is closed by moving each side half
of f*g towards the other and renormalising:  A' = normalise(A - f g / 2),  B' = normalise(B + f g / 2).
f = 1 is Amumo's closing exactly; the renormalisation leaves a small residual gap. For k modalities with N rows
each, `close_gaps` moves every modality by f times (its centroid - the centroid of all modalities), which for two
modalities is the same shift, +-g/2.
"""

import numpy as np

from dashboard.analysis.gap import gap_vector
from dashboard.analysis.similarity import normalize


def close_gap(a: np.ndarray, b: np.ndarray, fraction: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Shift each side by fraction * g / 2 towards the other, then renormalise."""
    na, nb = normalize(a, "first modality"), normalize(b, "second modality")
    half = (0.5 * fraction * gap_vector(na, nb)).astype(na.dtype)
    return normalize(na - half), normalize(nb + half)


def close_gaps(vectors: dict[str, np.ndarray], fraction: float = 1.0) -> dict[str, np.ndarray]:
    """Every modality moved by fraction * (its centroid - the common centroid), then renormalised."""
    normed = {m: normalize(x, m) for m, x in vectors.items()}
    means = {m: x.mean(axis=0, dtype=np.float64) for m, x in normed.items()}
    common = np.mean(list(means.values()), axis=0)
    closed = {}
    for m in list(normed):  # shift each modality's own normalised copy in place: one N x d copy less at a time
        shifted = normed.pop(m)
        shifted -= (fraction * (means[m] - common)).astype(shifted.dtype)
        closed[m] = normalize(shifted, m)
    return closed
