"""Cross-modal retrieval: the rank of every true partner and Recall@K in both directions.

For queries x_i and candidates y_j the rank of the true partner is 1 + #{j != i : s_ij > s_ii + tolerance}, with
s the exact cosine of the canonical rows and ties resolved optimistically: the one definition of
dashboard.analysis.ranking, the same on every CPU. Recall@K = share of queries whose partner has rank <= K. Both
directions come from one chunked pass over S = X Y^T (pairwise.scan: rows rank x -> y, columns y -> x), never
holding N x N. The per-item ranks are what a bootstrap resamples (no similarity needs recomputing).
"""

import numpy as np

from dashboard.analysis.pairwise import scan
from dashboard.errors import GapscopeError


def ranks_both(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """1-based partner ranks for queries from a (among b) and from b (among a)."""
    if np.shape(a) != np.shape(b):
        raise GapscopeError(f"retrieval: blocks differ in shape ({np.shape(a)} vs {np.shape(b)})")
    result = scan(a, b, 1.0, lse=False)
    return result.row_rank, result.col_rank


def partner_ranks(queries: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """1-based rank of candidates[i] among all candidates for queries[i]."""
    return ranks_both(queries, candidates)[0]


def recall_at_k(ranks: np.ndarray, ks: tuple[int, ...] = (1, 5, 10)) -> dict[str, float]:
    """{"K": share of ranks <= K}."""
    ranks = np.asarray(ranks)
    return {str(k): float(np.mean(ranks <= k)) if len(ranks) else 0.0 for k in ks}


def retrieval_report(a: np.ndarray, b: np.ndarray, ks: tuple[int, ...] = (1, 5, 10)) -> dict:
    """Ranks, Recall@K and median rank for both directions: {"a_to_b": {...}, "b_to_a": {...}}."""
    out = {}
    for name, ranks in zip(("a_to_b", "b_to_a"), ranks_both(a, b)):
        out[name] = {"ranks": ranks, "recall": recall_at_k(ranks, ks), "median_rank": float(np.median(ranks))}
    return out
