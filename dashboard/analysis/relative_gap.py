"""Relative modality gap, RMG (Schrodi et al., "Two effects, one trigger: on the modality gap, object bias, and
information imbalance in contrastive vision-language models", ICLR 2025, arXiv:2404.07983; as computed by the
authors' `compute_rmg` in github.com/lmb-freiburg/two-effects-one-trigger, analysis/gap_precompute.py).

The L2 distance of the centroids (Liang et al.) depends on how spread out each modality is. RMG relates the
distance of matching pairs to the distances within each modality. With the cosine dissimilarity
d(u, v) = (1 - cos(u, v)) / 2 in [0, 1] and N pairs (x_i, y_i):
    M     = (1/N) sum_i d(x_i, y_i)                                                   (matching pairs)
    intra = 1/(2N(N-1)) sum_{i != j} [ d(x_i, x_j) + d(y_i, y_j) ]                     (within modalities)
    RMG   = M / (intra + M)
RMG is 0 when every pair coincides and approaches 1 when pairs are far apart relative to the spread within each
modality. (The authors floor M at 1e-3 to avoid a zero; here identical pairs give exactly 0.) The sums over
i != j are exact in O(N d): sum_{i != j} cos(x_i, x_j) = ||sum_i x_i||^2 - N.
"""

import numpy as np

from dashboard.analysis.similarity import normalize
from dashboard.errors import GapscopeError


def _mean_intra_dissimilarity(z: np.ndarray) -> float:
    """(1/(N(N-1))) sum_{i != j} (1 - cos(z_i, z_j)) / 2 for normalised rows z."""
    n = len(z)
    s = z.sum(axis=0, dtype=np.float64)
    mean_cos = (float(s @ s) - n) / (n * (n - 1.0))
    return (1.0 - mean_cos) / 2.0


def relative_gap(a: np.ndarray, b: np.ndarray) -> float:
    """RMG = M / (intra + M) with cosine dissimilarities (Schrodi et al. 2025)."""
    x, y = normalize(a, "first modality"), normalize(b, "second modality")
    if x.shape != y.shape or len(x) < 2:
        raise GapscopeError(f"relative gap: needs two aligned blocks of at least 2 pairs ({x.shape} vs {y.shape})")
    matching = float(np.mean((1.0 - np.einsum("ij,ij->i", x, y, dtype=np.float64)) / 2.0))
    intra = 0.5 * (_mean_intra_dissimilarity(x) + _mean_intra_dissimilarity(y))
    return matching / (intra + matching) if intra + matching > 0 else 0.0
