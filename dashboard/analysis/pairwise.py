"""One pass over the cross-modal logits L = s * X Y^T of paired rows, shared by the loss and retrieval.

The rows are first made canonical (dashboard.analysis.ranking: float32, L2-normalised, quantised), so the pass
gives the same ranks whatever the input dtype, BLAS kernel, thread count or block size. For each tile of L (at most
CHUNK rows and TILE_ENTRIES values, dashboard.analysis.tiles; never the whole N x N matrix, float32 BLAS, tiles
computed by every core) it accumulates, with the diagonal (the true pairs) held out:
- the 1-based rank of each true partner in both directions, by ranking.RankCounter (exact, ties within
  ranking.TIE_TOLERANCE resolved optimistically);
- the row and column log-sum-exp over the other entries, one exp per entry: E_ij = exp(L_ij - m_i) with m_i the
  row's maximum within the tile (the row maxima serve the ranks too), or m_i = 0 (no subtraction pass) when every
  row maximum of the tile lies in SAFE_EXP: then no sum of E_ij overflows float32 (a tile's 2^20 values times e^60
  stay below e^74; float32's largest is e^88.7), and each row's largest term is at least e^-60, so the at most
  TILE_ENTRIES / CHUNK = 2048 terms of a tile row that float32 loses below e^-87.3 are under 3e-9 of its sum. Rows
  from sum_j E_ij, columns from sum_i exp(L_ij - R) = sum_i w_i E_ij, w_i = exp(m_i - R), R = max_i m_i (one
  float32 matrix-vector product).
  Both are folded, in tile order, into running references in float64 (the streaming log-sum-exp: sum * exp(ref)
  kept with the larger reference), so the result does not depend on the number of threads. A column whose tile
  sum is so small that float32 may have underflowed (below UNDERFLOW) is summed again in float64. The full
  log-sum-exp adds the diagonal back: logaddexp(lse_without, L_ii).
The diagonal L_ii = s * s_ii is exact (ranking's exact pair similarity). The log-sum-exps are float-rounded
(compare them with a tolerance); the ranks are exact.
"""

from dataclasses import dataclass
from functools import partial

import numpy as np

from dashboard.analysis import tiles
from dashboard.analysis.ranking import RankCounter, canonical

CHUNK = 512  # most rows per tile
TILE_ENTRIES = 1 << 20  # most values per tile (4 MB of float32: the element-wise passes stay in the cache)
UNDERFLOW = 1e-20
SAFE_EXP = (-60.0, 60.0)  # row maxima of L within this range: exp(L_ij) unshifted is finite and keeps every row


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


@dataclass(frozen=True)
class _Part:
    """One tile's log-sum-exp terms: per row sum_j exp(L_ij - row_ref_i), per column sum_i exp(L_ij - col_ref)."""

    row_ref: np.ndarray
    row_sum: np.ndarray
    col_ref: float
    col_sum: np.ndarray


def _tile_sums(tile: tiles.Tile, block: np.ndarray, peaks: np.ndarray, scale: float, xs: np.ndarray,
               ys: np.ndarray) -> _Part:
    """The log-sum-exp terms of one tile (cosines, diagonal -inf; peaks: row maxima); block is overwritten."""
    if scale * peaks.min() >= SAFE_EXP[0] and scale * peaks.max() <= SAFE_EXP[1]:
        shift = np.zeros(len(block), dtype=np.float32)  # exp(L) itself neither overflows nor loses a row
    else:
        shift = np.maximum(peaks, np.float32(-2.0))
        block -= shift[:, None]
    block *= np.float32(scale)
    np.exp(block, out=block)
    row_ref = scale * shift.astype(np.float64)
    top = row_ref.max()
    sums = (np.exp(row_ref - top).astype(np.float32) @ block).astype(np.float64)
    low = np.flatnonzero(sums < UNDERFLOW)
    if len(low):
        sums[low] = _column_sums(tile, low, (xs, ys), scale, top)
    return _Part(row_ref, block.sum(axis=1).astype(np.float64), top, sums)


def _column_sums(tile: tiles.Tile, columns: np.ndarray, rows: tuple[np.ndarray, np.ndarray], scale: float,
                 top: float) -> np.ndarray:
    """sum_i exp(L_ij - top) over the tile's rows i != j for a few of its columns j, in float64."""
    (r0, r1, c0, _), (xs, ys) = tile, rows
    logits = scale * (xs[r0:r1].astype(np.float64) @ ys[c0 + columns].T.astype(np.float64))
    logits[c0 + columns[None, :] == np.arange(r0, r1)[:, None]] = -np.inf
    return np.exp(logits - top).sum(axis=0)


def _fold(ref: np.ndarray, total: np.ndarray, new_ref, new_sum: np.ndarray) -> None:
    """total * exp(ref) += new_sum * exp(new_ref) in place, keeping the larger reference."""
    top = np.maximum(ref, new_ref)
    with np.errstate(invalid="ignore"):
        total[:] = np.nan_to_num(total * np.exp(ref - top)) + new_sum * np.exp(new_ref - top)
    ref[:] = top


def _lse(ref: np.ndarray, total: np.ndarray) -> np.ndarray:
    """ref + log(total), -inf where the total is 0."""
    return ref + np.log(total, where=total > 0, out=np.full(len(total), -np.inf))


def _work(counter: RankCounter, scale: float, lse: bool, tile: tiles.Tile) -> tuple:
    """Product, rank counts and (if lse) log-sum-exp terms of one tile."""
    r0, r1, c0, c1 = tile
    xs, ys = counter.x.unit, counter.y.unit
    block = xs[r0:r1] @ ys[c0:c1].T
    diagonal = np.arange(max(r0, c0), min(r1, c1))
    block[diagonal - r0, diagonal - c0] = -np.inf
    peaks = block.max(axis=1)
    counts = counter.count_tile(r0, c0, block, peaks)
    return counts, _tile_sums(tile, block, peaks, scale, xs, ys) if lse else None


def scan(x: np.ndarray, y: np.ndarray, scale: float = 1.0, lse: bool = True) -> Scan:
    """Statistics of L = scale * x y^T for row-aligned x and y (ranks only when not `lse`)."""
    n = len(x)
    counter = RankCounter(canonical(x, "first modality"), canonical(y, "second modality"))
    refs, totals = np.full((2, n), -np.inf), np.zeros((2, n))
    work = partial(_work, counter, float(scale), lse)
    for (r0, r1, c0, c1), (counts, part) in tiles.ordered(work, tiles.grid(n, CHUNK, TILE_ENTRIES),
                                                         tiles.workers(n)):
        counter.add(r0, c0, counts)
        if part is not None:
            _fold(refs[0, r0:r1], totals[0, r0:r1], part.row_ref, part.row_sum)
            _fold(refs[1, c0:c1], totals[1, c0:c1], part.col_ref, part.col_sum)
    row_rank, col_rank = counter.ranks()
    diagonal = scale * counter.similarity()
    if not lse:
        return Scan(diagonal, np.full(n, np.nan), np.full(n, np.nan), row_rank, col_rank)
    return Scan(diagonal, _lse(refs[0], totals[0]), _lse(refs[1], totals[1]), row_rank, col_rank)
