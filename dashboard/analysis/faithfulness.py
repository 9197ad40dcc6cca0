"""How faithful a 2-D projection is to the embedding space.

- Pair neighbourhood preservation (the measure Amumo's article asks for): a pair (a_i, b_i) is "near" in a space
  when b_i is among the k nearest cross-modal neighbours of a_i (cosine in the full space, Euclidean in 2-D).
  Reported: the share of near pairs in the full space, in 2-D, and the share of the full-space near pairs that
  stay near in 2-D (`preserved`; 1 = the projection keeps every close pair close).
- Trustworthiness (Venna & Kaski 2001; scikit-learn): how much the 2-D k-neighbourhoods contain only true
  neighbours, in [0, 1]; cosine metric in the full space; above `TRUST_MAX_N` points a fixed-seed subset is used.
"""

import numpy as np

from dashboard.analysis.similarity import normalize
from dashboard.errors import GapscopeError

TRUST_MAX_N = 3000
_CHUNK = 2048


def near_partners(a: np.ndarray, b: np.ndarray, k: int = 10, euclidean: bool = False) -> np.ndarray:
    """Whether b_i is among the k nearest rows of b to a_i (cosine of normalised rows, or Euclidean), chunked."""
    x, y = (np.asarray(a, float), np.asarray(b, float)) if euclidean else (normalize(a), normalize(b))
    out = np.empty(len(x), dtype=bool)
    y_sq = (y ** 2).sum(1)
    for start in range(0, len(x), _CHUNK):
        q = x[start:start + _CHUNK]
        score = 2 * q @ y.T - y_sq[None, :] if euclidean else q @ y.T  # larger = nearer
        rows = np.arange(len(q))
        own = score[rows, rows + start]
        out[start:start + len(q)] = np.count_nonzero(score > own[:, None], axis=1) < k
    return out


def pair_preservation(high_a: np.ndarray, high_b: np.ndarray, low_a: np.ndarray, low_b: np.ndarray,
                      k: int = 10, high_near: np.ndarray | None = None) -> dict[str, float]:
    """Share of pairs near in the full space, in 2-D, and of the former that stay near in 2-D."""
    if not (len(high_a) == len(high_b) == len(low_a) == len(low_b)):
        raise GapscopeError("projection faithfulness: blocks and coordinates have different numbers of rows")
    high = near_partners(high_a, high_b, k) if high_near is None else high_near
    low = near_partners(low_a, low_b, k, euclidean=True)
    kept = float(np.mean(low[high])) if high.any() else 0.0
    return {"k": int(k), "near_full": float(high.mean()), "near_2d": float(low.mean()), "preserved": kept}


def trustworthiness(high: np.ndarray, low: np.ndarray, k: int = 10, seed: int = 0) -> float:
    """scikit-learn trustworthiness of the 2-D coordinates (cosine in the full space)."""
    from sklearn.manifold import trustworthiness as sk_trust

    high, low = np.asarray(high), np.asarray(low)
    if len(high) != len(low):
        raise GapscopeError("trustworthiness: embeddings and coordinates have different numbers of rows")
    if len(high) > TRUST_MAX_N:
        keep = np.sort(np.random.default_rng(seed).choice(len(high), TRUST_MAX_N, replace=False))
        high, low = high[keep], low[keep]
    return float(sk_trust(high, low, n_neighbors=min(k, len(high) // 2 - 1), metric="cosine"))
