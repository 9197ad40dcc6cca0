"""The one definition of a partner's rank, exact and the same on every CPU, BLAS kernel, thread count and block size.

Canonical vectors. Every row is cast to float32 (float32 and float64 inputs give the same vectors), then to
float64, L2-normalised with numpy's own element-wise operations and reductions (no BLAS), and quantised to a
fixed-point grid: q = rint(x * 2^FRACTION_BITS). The similarity of rows i and j is s_ij = <q_i, q_j> / 2^(2 *
FRACTION_BITS). With FRACTION_BITS = 26 every product q_ia q_ja and every partial sum of <q_i, q_j> is an integer
below 2^53 (Cauchy-Schwarz: sum_a |q_ia q_ja| <= |q_i| |q_j| < 2^53), so a float64 dot product of two canonical
rows is EXACT in any summation order, blocking or use of FMA.

Rank. For query i with true partner i among candidates j (rows: x_i against y_j; columns: y_i against x_j),
    rank_i = 1 + #{j != i : s_ij > s_ii + TIE_TOLERANCE}.
Similarities within TIE_TOLERANCE of the partner's are ties (identical vectors such as duplicate captions,
re-embedded duplicates differing by float32 noise). Ties are resolved optimistically (the "1224" competition
ranking, the best rank among the tied candidates): a tied candidate is indistinguishable from the partner to the
model, a duplicate caption of the partner is a correct retrieval (as in MSCOCO's five-captions protocol), and it
was gapscope's previous convention. The alternatives, pessimistic and mean (fractional) rank, are those of McSherry
& Najork, "Computing information retrieval performance measures efficiently in the presence of tied scores"
(ECIR 2008). Recall@K is the share of queries with rank <= K.

Speed with exactness. The N x N similarities are computed block by block in float32 BLAS on the canonical vectors
(s^_ij), with the rigorous error bound |s^_ij - s_ij| <= ERROR_BOUND (Higham, Accuracy and Stability of Numerical
Algorithms, 2002, eq. 3.5: |fl(x.y) - x.y| <= gamma_d sum_a |x_a y_a|, gamma_d = d u / (1 - d u), u = 2^-24, plus
the float32 representation of q / 2^26, relative error u per element; the bound is doubled for safety). A
comparison s_ij > t is decided from the float32 block when s^_ij lies outside [t - E, t + E]; the few entries
inside that band (near-ties, duplicates) are recomputed exactly in float64 on q. Counting is tile by tile
(dashboard.analysis.tiles): a row (column) of a tile whose maximum is not above the band's lower edge holds no
candidate and costs no comparison; the others are compared once against the lower edge, and only the entries
above it are looked at again. Counts are integers, so neither the tiling nor the order of the tiles changes them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dashboard.analysis.similarity import normalize

FRACTION_BITS = 26
GRID = float(2 ** (2 * FRACTION_BITS))  # s_ij = <q_i, q_j> / GRID
TIE_TOLERANCE = 2.0 ** -20  # in cosine units; GRID * TIE_TOLERANCE = 2^32 is an integer on the q scale
RULE = "optimistic"
UNIT_ROUNDOFF = 2.0 ** -24


def ties() -> dict:
    """How ties are ranked, as `gapscope metrics --json` reports it."""
    return {"rule": RULE, "tolerance": TIE_TOLERANCE}


def tied_ranks(scores: np.ndarray) -> np.ndarray:
    """1-based ranks of scores, higher first, by the same rule: 1 + #{others above score + TIE_TOLERANCE}."""
    scores = np.asarray(scores, dtype=np.float64)
    above = len(scores) - np.searchsorted(np.sort(scores), scores + TIE_TOLERANCE, side="right")
    return above + 1


@dataclass(frozen=True)
class Canonical:
    """Quantised rows q (float64 integers) and the same rows in float32 at unit scale (q / 2^26)."""

    q: np.ndarray
    unit: np.ndarray

    def error_bound(self) -> float:
        """E: the most a float32 BLAS dot product of two unit rows can differ from the exact s_ij."""
        d = self.q.shape[1]
        gamma = d * UNIT_ROUNDOFF / (1 - d * UNIT_ROUNDOFF)
        norm = 1.0 + np.sqrt(d) * 2.0 ** -(FRACTION_BITS + 1)
        return 2.0 * (gamma * (1 + UNIT_ROUNDOFF) ** 2 + 2 * UNIT_ROUNDOFF + UNIT_ROUNDOFF ** 2) * norm ** 2


def canonical(x: np.ndarray, name: str = "embeddings") -> Canonical:
    """The canonical rows of x (any float dtype; rows must be non-zero and finite)."""
    x = normalize(np.asarray(x, dtype=np.float32).astype(np.float64), name)
    q = np.rint(x * 2.0 ** FRACTION_BITS)
    return Canonical(q, (q * 2.0 ** -FRACTION_BITS).astype(np.float32))


def exact_dots(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """<a_k, b_k> for paired rows of canonical q (exact integers)."""
    return np.einsum("ij,ij->i", a, b)


def pair_similarities(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The exact similarities s_ii of row-aligned x and y (the partners' similarities of a scan, bit for bit)."""
    return exact_dots(canonical(x, "first modality").q, canonical(y, "second modality").q) / GRID


def thresholds(diagonal_q: np.ndarray, bound: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact thresholds t (q scale) and float32 band edges lo <= t/GRID - E, hi >= t/GRID + E (cosine units)."""
    t = diagonal_q + GRID * TIE_TOLERANCE
    lo, hi = (t / GRID - bound).astype(np.float32), (t / GRID + bound).astype(np.float32)
    lo = np.where(lo.astype(np.float64) > t / GRID - bound, np.nextafter(lo, np.float32(-np.inf)), lo)
    hi = np.where(hi.astype(np.float64) < t / GRID + bound, np.nextafter(hi, np.float32(np.inf)), hi)
    return t, lo, hi


@dataclass
class RankCounter:
    """Counts, tile by tile, the candidates that beat each partner in both directions of one x/y pair."""

    x: Canonical
    y: Canonical

    def __post_init__(self) -> None:
        """Exact diagonal, thresholds and zeroed counts."""
        self.diagonal_q = exact_dots(self.x.q, self.y.q)
        self.t, self.lo, self.hi = thresholds(self.diagonal_q, self.x.error_bound())
        self.above_rows = np.zeros(len(self.t), dtype=np.int64)
        self.above_cols = np.zeros(len(self.t), dtype=np.int64)

    def count_tile(self, r0: int, c0: int, block: np.ndarray, peaks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Beaten partners in block = unit x[r0:] @ unit y[c0:]^T (float32, diagonal -inf; peaks: row maxima),
        per row and per column; reads only, so tiles may be counted in parallel."""
        rows = self._rows(r0, c0, block, peaks)
        lo = self.lo[c0:c0 + block.shape[1]]
        if peaks.max() <= lo.min():  # no column holds a candidate
            return rows, np.zeros(block.shape[1], dtype=np.int64)
        return rows, self._columns(r0, c0, block)

    def add(self, r0: int, c0: int, counts: tuple[np.ndarray, np.ndarray]) -> None:
        """Add one tile's counts."""
        self.above_rows[r0:r0 + len(counts[0])] += counts[0]
        self.above_cols[c0:c0 + len(counts[1])] += counts[1]

    def _rows(self, r0: int, c0: int, block: np.ndarray, peaks: np.ndarray) -> np.ndarray:
        """Row counts (x_i as query): entries above the band from the float32 block, those inside it exactly."""
        lo, hi = self.lo[r0:r0 + len(block)], self.hi[r0:r0 + len(block)]
        rows = np.flatnonzero(peaks > lo)
        if not len(rows):
            return np.zeros(len(block), dtype=np.int64)
        sub = block if len(rows) == len(block) else block[rows]
        r, c = np.nonzero(sub > lo[rows, None])
        r = rows[r]
        band = block[r, c] <= hi[r]
        won = exact_dots(self.x.q[r0 + r[band]], self.y.q[c0 + c[band]]) > self.t[r0 + r[band]]
        return np.bincount(r[~band], minlength=len(block)) + np.bincount(r[band][won], minlength=len(block))

    def _columns(self, r0: int, c0: int, block: np.ndarray) -> np.ndarray:
        """Column counts (y_j as query) over the tile's rows."""
        width = block.shape[1]
        lo, hi = self.lo[c0:c0 + width], self.hi[c0:c0 + width]
        cols = np.flatnonzero(block.max(axis=0) > lo)
        sub = block if len(cols) == width else block[:, cols]
        r, c = np.nonzero(sub > lo[cols])
        c = cols[c]
        band = block[r, c] <= hi[c]
        won = exact_dots(self.x.q[r0 + r[band]], self.y.q[c0 + c[band]]) > self.t[c0 + c[band]]
        return np.bincount(c[~band], minlength=width) + np.bincount(c[band][won], minlength=width)

    def ranks(self) -> tuple[np.ndarray, np.ndarray]:
        """1-based ranks of the partners: x_i among y (rows) and y_i among x (columns)."""
        return self.above_rows + 1, self.above_cols + 1

    def similarity(self) -> np.ndarray:
        """The exact pair similarities s_ii (float64)."""
        return self.diagonal_q / GRID
