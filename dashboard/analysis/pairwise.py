"""One pass over the cross-modal logits L = s * X Y^T of paired rows, shared by the loss and retrieval.

The rows are first made canonical (dashboard.analysis.ranking: float32, L2-normalised, quantised), so the pass
gives the same ranks whatever the input dtype, BLAS kernel, thread count or block size. For each row block of L
(never the whole N x N matrix, float32 BLAS) it accumulates, with the diagonal (the true pairs) held out:
- the 1-based rank of each true partner in both directions, by ranking.RankCounter (exact, ties within
  ranking.TIE_TOLERANCE resolved optimistically);
- the row and column log-sum-exp over the other entries: rows from E_ij = exp(L_ij - m_i) with the row maximum m_i;
  columns from the same E by sum_i exp(L_ij - R) = sum_i w_i E_ij, w_i = exp(m_i - R), R = max_i m_i (one float32
  matrix-vector product), folded into a running column reference in float64; a column whose block sum is so small
  that float32 may have underflowed (below UNDERFLOW) is summed again in float64. The full log-sum-exp adds the
  diagonal back: logaddexp(lse_without, L_ii).
The diagonal L_ii = s * s_ii is exact (ranking's exact pair similarity). The log-sum-exps are float-rounded
(compare them with a tolerance); the ranks are exact.
"""

from dataclasses import dataclass

import numpy as np

from dashboard.analysis.ranking import RankCounter, canonical

CHUNK = 2048  # most rows per block; fewer for large N so that a block holds at most BLOCK_ENTRIES values
BLOCK_ENTRIES = 1 << 25
UNDERFLOW = 1e-20


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


class _LogSumExp:
    """Running row and column log-sum-exps of scale * block over the blocks of one pass."""

    def __init__(self, xs: np.ndarray, ys: np.ndarray, scale: float) -> None:
        """Empty sums for the rows of xs and ys (canonical unit rows, float32)."""
        n = len(xs)
        self.xs, self.ys, self.scale, self.rows = xs, ys, float(scale), np.full(n, -np.inf)
        self.col_ref, self.col_sum = np.full(n, -np.inf), np.zeros(n)

    def add_block(self, start: int, block: np.ndarray, peaks: np.ndarray) -> None:
        """Fold block (cosines, diagonal -inf; peaks: row maxima) in; block is overwritten with exp(L - row max)."""
        peak = np.maximum(peaks, np.float32(-2.0))
        block -= peak[:, None]
        block *= np.float32(self.scale)
        np.exp(block, out=block)
        row_sum = block.sum(axis=1).astype(np.float64)
        self.rows[start:start + len(block)] = self.scale * peak + np.log(row_sum, where=row_sum > 0,
                                                                          out=np.full(len(block), -np.inf))
        logits_peak = self.scale * peak.astype(np.float64)
        top = logits_peak.max()
        sums = (np.exp(logits_peak - top).astype(np.float32) @ block).astype(np.float64)
        low = np.flatnonzero(sums < UNDERFLOW)
        if len(low):
            sums[low] = self._column_sums(start, len(block), low, top)
        self._fold(top, sums)

    def _column_sums(self, start: int, rows: int, columns: np.ndarray, top: float) -> np.ndarray:
        """sum_i exp(L_ij - top) over the block's rows i != j for a few columns j, in float64."""
        logits = self.scale * (self.xs[start:start + rows] @ self.ys[columns].T).astype(np.float64)
        logits[columns[None, :] == np.arange(start, start + rows)[:, None]] = -np.inf
        return np.exp(logits - top).sum(axis=0)

    def _fold(self, top: float, sums: np.ndarray) -> None:
        """col_sum * exp(col_ref) += sums * exp(top), keeping the larger reference."""
        new = np.maximum(self.col_ref, top)
        with np.errstate(invalid="ignore"):
            self.col_sum = np.nan_to_num(self.col_sum * np.exp(self.col_ref - new)) + sums * np.exp(top - new)
        self.col_ref = new

    def columns(self) -> np.ndarray:
        """log sum_{i != j} exp(L_ij) per column."""
        return self.col_ref + np.log(self.col_sum, where=self.col_sum > 0, out=np.full(len(self.col_sum), -np.inf))


def scan(x: np.ndarray, y: np.ndarray, scale: float = 1.0, lse: bool = True) -> Scan:
    """Statistics of L = scale * x y^T for row-aligned x and y (ranks only when not `lse`)."""
    n = len(x)
    counter = RankCounter(canonical(x, "first modality"), canonical(y, "second modality"))
    xs, ys = counter.x.unit, counter.y.unit
    sums = _LogSumExp(xs, ys, scale) if lse else None
    step = max(1, min(CHUNK, BLOCK_ENTRIES // max(n, 1)))
    for start in range(0, n, step):
        block = xs[start:start + step] @ ys.T
        rows = np.arange(len(block))
        block[rows, rows + start] = -np.inf
        peaks = block.max(axis=1)
        counter.add_block(start, block, peaks)
        if sums is not None:
            sums.add_block(start, block, peaks)
    row_rank, col_rank = counter.ranks()
    diagonal = scale * counter.similarity()
    if sums is None:
        return Scan(diagonal, np.full(n, np.nan), np.full(n, np.nan), row_rank, col_rank)
    return Scan(diagonal, sums.rows, sums.columns(), row_rank, col_rank)
