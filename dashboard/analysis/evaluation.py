"""Shared by the gap analyses: a seeded sample of rows, a row normalisation that lets zero rows be, and the InfoNCE
loss with Recall@1/5/10 both ways of a set of pairs from one pass over their logits (pairwise.scan, as the loss and
retrieval modules compute them), with the per-pair terms of those means kept for the bootstrap on request."""

import numpy as np

from dashboard.analysis.loss import loss_from_scan
from dashboard.analysis.pairwise import scan
from dashboard.analysis.retrieval import recall_at_k

EVAL_PAIRS = 1000


def seeded_rows(n: int, seed: int = 0, size: int = EVAL_PAIRS) -> np.ndarray:
    """Sorted positions of a seeded sample of `size` of n rows (all rows when n <= size)."""
    return np.arange(n) if n <= size else np.sort(np.random.default_rng(seed).choice(n, size, replace=False))


def rownorm(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit norm (zero rows stay zero)."""
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms > 0, norms, 1.0)


def loss_and_recall(x: np.ndarray, y: np.ndarray, scale: float, keep: dict | None = None) -> dict:
    """InfoNCE at `scale` and Recall@1/5/10 of x -> y ("a_to_b") and y -> x ("b_to_a") for row-aligned pairs;
    `keep` (if given) receives the per-pair terms whose means they are: "loss" (the InfoNCE term of pair i,
    (lse_j L_ij + lse_j L_ji) / 2 - L_ii) and the partner ranks "a_to_b", "b_to_a"."""
    result = scan(np.asarray(x, np.float32), np.asarray(y, np.float32), float(scale))
    if keep is not None:
        keep |= {"loss": 0.5 * (result.row_lse() + result.col_lse()) - result.diagonal,
                 "a_to_b": result.row_rank, "b_to_a": result.col_rank}
    return {"loss": loss_from_scan(result, "infonce"), "a_to_b": recall_at_k(result.row_rank),
            "b_to_a": recall_at_k(result.col_rank)}


def gap_norm(x: np.ndarray, y: np.ndarray) -> float:
    """||mean(x) - mean(y)|| in float64."""
    return float(np.linalg.norm(x.mean(axis=0, dtype=np.float64) - y.mean(axis=0, dtype=np.float64)))
