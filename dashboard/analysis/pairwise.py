"""One pass over the cross-modal logits L = s * X Y^T of L2-normalised pairs, shared by the loss and retrieval.

For each row chunk of L (never the whole N x N matrix) it accumulates, with the diagonal (the true pairs) held out:
- the row and column log-sum-exp over the other entries (running maximum and rescaled sum, so any scale is
  numerically stable); the full log-sum-exp adds the diagonal back: logaddexp(lse_without, L_ii);
- the 1-based rank of each true partner: 1 + #{j != i : L_ij > L_ii} along rows (x_i as query) and columns (y_j).
The diagonal L_ii is computed exactly in float64; the products run in the inputs' precision (float32 BLAS for
float32 embeddings).
"""

from dataclasses import dataclass

import numpy as np

CHUNK = 2048  # most rows per chunk; fewer for large N so that a chunk holds at most BLOCK_ENTRIES values
BLOCK_ENTRIES = 1 << 24


@dataclass(frozen=True)
class Scan:
    """Per-pair statistics of one pass over L: log-sum-exps without and with the diagonal, and partner ranks."""

    diagonal: np.ndarray
    row_lse_others: np.ndarray
    col_lse_others: np.ndarray
    row_rank: np.ndarray
    col_rank: np.ndarray

    def row_lse(self, leave_one_out: bool = False) -> np.ndarray:
        """log sum_j exp(L_ij), over j != i when leaving one out."""
        return self.row_lse_others if leave_one_out else np.logaddexp(self.row_lse_others, self.diagonal)

    def col_lse(self, leave_one_out: bool = False) -> np.ndarray:
        """log sum_i exp(L_ij), over i != j when leaving one out."""
        return self.col_lse_others if leave_one_out else np.logaddexp(self.col_lse_others, self.diagonal)


def _fold(m: np.ndarray, s: np.ndarray, block: np.ndarray, axis: int) -> None:
    """Fold block into the running log-sum-exp (maximum m, sum s scaled by exp(-m)) along axis, in place."""
    new = np.maximum(m, block.max(axis=axis))
    s *= np.exp(m - new)
    s += np.exp(block - np.expand_dims(new, axis).astype(block.dtype)).sum(axis=axis, dtype=np.float64)
    m[...] = new


def scan(x: np.ndarray, y: np.ndarray, scale: float = 1.0, lse: bool = True) -> Scan:
    """Statistics of L = scale * x y^T for row-aligned, L2-normalised x and y (ranks only when not `lse`)."""
    n, floor = len(x), -abs(float(scale)) - 1.0
    diagonal = scale * np.einsum("ij,ij->i", x, y, dtype=np.float64)
    own = diagonal.astype(x.dtype)
    row_lse, row_rank, col_rank = np.empty(n), np.ones(n, dtype=np.int64), np.ones(n, dtype=np.int64)
    col_max, col_sum = np.full(n, floor), np.zeros(n)
    step = max(1, min(CHUNK, BLOCK_ENTRIES // max(n, 1)))
    for start in range(0, n, step):
        block = x[start:start + step] @ y.T
        block *= block.dtype.type(scale)
        rows = np.arange(block.shape[0])
        block[rows, rows + start] = -np.inf
        row_rank[start:start + len(rows)] += np.count_nonzero(block > own[start:start + len(rows), None], axis=1)
        col_rank += np.count_nonzero(block > own[None, :], axis=0)
        if not lse:
            continue
        m, s = np.full(len(rows), floor), np.zeros(len(rows))
        _fold(m, s, block, axis=1)
        row_lse[start:start + len(rows)] = m + np.log(s, where=s > 0, out=np.full(len(rows), -np.inf))
        _fold(col_max, col_sum, block, axis=0)
    col_lse = col_max + np.log(col_sum, where=col_sum > 0, out=np.full(n, -np.inf))
    return Scan(diagonal, row_lse, col_lse, row_rank, col_rank)
