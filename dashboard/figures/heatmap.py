"""Similarity heatmaps (Amumo's main view): the kN x kN cosine-similarity matrix of k modality blocks.

Up to `MAX_SIDE` rows (1,000: the default view of 500 pairs shows every cell, as Amumo's 200 x 200) every cell is
one pair of items. Above it the matrix is aggregated on the server: each modality block is cut into
`AGGREGATED_SIDE` / k equal runs of consecutive items in the current order and a cell holds the mean similarity
of two runs. Because cosine similarity of L2-normalised vectors is bilinear, mean_{i in a, j in b} x_i . y_j =
mean(x_a) . mean(y_b), so the block means are exact and cost O(N d) instead of the O(N^2 d) full matrix; the
payload stays below MAX_SIDE^2 float32 values at any N. Runs of items in id order average unrelated items into
flat squares, so the caller orders items first (by cluster, or by the first principal component:
dashboard/analysis/ordering.py) and names the order (`ordering`, shown in the title). `window` zooms into a run
of positions of that order; `run_edges` and `offset` map a row back to its positions, for zooming on a click.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from dashboard.analysis.similarity import normalize
from dashboard.errors import GapscopeError

MAX_SIDE = 1000
AGGREGATED_SIDE = 400
COLORSCALE = "Viridis"
DIFF_COLORSCALE = "RdBu_r"


@dataclass(frozen=True)
class HeatmapData:
    """A (possibly aggregated) similarity matrix with one label per row and the modality block sizes."""

    matrix: np.ndarray
    labels: list[str]
    row_items: list[list[str]]
    modalities: list[str]
    block: int
    aggregated: bool
    run_edges: tuple[int, ...] = ()
    offset: int = 0
    ordering: str = "item order"

    @property
    def boundaries(self) -> list[int]:
        """Row indices where a new modality block starts (after the first)."""
        return [self.block * k for k in range(1, len(self.modalities))]


def _runs(n: int, bins: int) -> list[tuple[int, int]]:
    """`bins` runs of consecutive indices covering range(n) as evenly as possible."""
    edges = np.linspace(0, n, bins + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:]) if b > a]


def similarity_blocks(vectors: dict[str, np.ndarray], item_ids: list[str], order: np.ndarray | None = None,
                      window: tuple[int, int] | None = None, max_side: int = MAX_SIDE,
                      ordering: str = "item order") -> HeatmapData:
    """The block similarity matrix of the modalities in `vectors` (rows aligned with item_ids), exact up to
    `max_side` rows, else means of runs (at most min(max_side, AGGREGATED_SIDE) rows)."""
    modalities = list(vectors)
    n = len(item_ids)
    if n == 0 or not modalities:
        raise GapscopeError("heatmap: no items to show (the subset is empty)")
    order = np.arange(n) if order is None else np.asarray(order)
    offset = 0
    if window is not None:
        offset, stop = max(0, window[0]), min(len(order), window[1])
        if stop <= offset:
            raise GapscopeError(f"heatmap: zoom window {window[0]}-{window[1]} holds no items (there are {n})")
        order = order[offset:stop]
    ids = [item_ids[i] for i in order]
    runs = heatmap_runs(len(ids), len(modalities), max_side)
    stacked = np.concatenate([_run_means(vectors[m], order, runs, m) for m in modalities])
    return _laid_out((stacked @ stacked.T).astype(np.float32), ids, runs, modalities, offset, ordering)


def heatmap_runs(n: int, k: int, max_side: int = MAX_SIDE) -> list[tuple[int, int]]:
    """The runs of consecutive positions the rows of one modality block hold (one item each up to max_side rows)."""
    return _runs(n, n if n * k <= max_side else max(1, min(max_side, AGGREGATED_SIDE) // k))


def heatmap_from_matrix(matrix: np.ndarray, ordered_ids: list[str], modalities: list[str],
                        ordering: str) -> HeatmapData | None:
    """The heatmap of all of `ordered_ids` (no window) from its matrix as similarity_blocks computed it (a stored
    one); None when the matrix's side is not what this module's layout gives for them (stored by another version)."""
    runs = heatmap_runs(len(ordered_ids), len(modalities))
    if not ordered_ids or np.shape(matrix) != (len(runs) * len(modalities),) * 2:
        return None
    return _laid_out(np.asarray(matrix, dtype=np.float32), ordered_ids, runs, modalities, 0, ordering)


def _laid_out(matrix: np.ndarray, ids: list[str], runs: list[tuple[int, int]], modalities: list[str], offset: int,
              ordering: str) -> HeatmapData:
    """HeatmapData of a matrix whose rows are the runs of `ids` (in the heatmap's order) in each modality."""
    row_items = [ids[a:b] for a, b in runs] * len(modalities)
    labels = [f"{m} · {_run_label(ids, a, b, offset)}" for m in modalities for a, b in runs]
    edges = tuple(a for a, _ in runs) + (runs[-1][1],)
    return HeatmapData(matrix, labels, row_items, modalities, len(runs), len(runs) < len(ids), edges, offset, ordering)


def _run_means(vectors: np.ndarray, order: np.ndarray, runs: list[tuple[int, int]], name: str) -> np.ndarray:
    """float32 mean of the normalised rows of each run of `order` (the rows themselves for runs of one), run by run
    so no reordered N x d copy is made."""
    x = np.asarray(vectors)
    if all(b - a == 1 for a, b in runs):
        return normalize(np.asarray(x[order], dtype=np.float32), name)
    return np.stack([normalize(np.asarray(x[order[a:b]], dtype=np.float32), name).mean(axis=0) for a, b in runs])


def _run_label(ids: list[str], start: int, stop: int, offset: int) -> str:
    """Label of one row: the item id, or the positions (1-based, in the heatmap's order) of the items a run holds."""
    return ids[start] if stop - start == 1 else f"#{offset + start + 1}–{offset + stop} ({stop - start} items)"


def difference_blocks(data: HeatmapData, first: str, second: str) -> HeatmapData:
    """The in-modal difference view: similarity within `first` minus similarity within `second`."""
    for m in (first, second):
        if m not in data.modalities:
            raise GapscopeError(f"difference view: no modality {m!r} (have {', '.join(data.modalities)})")
    b = data.block
    i, j = data.modalities.index(first), data.modalities.index(second)
    diff = data.matrix[i * b:(i + 1) * b, i * b:(i + 1) * b] - data.matrix[j * b:(j + 1) * b, j * b:(j + 1) * b]
    labels = [label.split(" · ", 1)[1] for label in data.labels[:b]]
    return HeatmapData(diff, labels, data.row_items[:b], [f"{first} − {second}"], b, data.aggregated,
                       data.run_edges, data.offset, data.ordering)


def color_range(*datas: HeatmapData) -> tuple[float, float]:
    """One colour range shared by several heatmaps."""
    low = min(float(d.matrix.min()) for d in datas)
    high = max(float(d.matrix.max()) for d in datas)
    return (low, high) if high > low else (low - 1e-6, high + 1e-6)


def heatmap_figure(data: HeatmapData, title: str = "", zrange: tuple[float, float] | None = None,
                   diverging: bool = False, height: int = 520) -> go.Figure:
    """A heatmap with lines between modality blocks and one colour scale."""
    zmin, zmax = zrange or color_range(data)
    if diverging:
        bound = max(abs(zmin), abs(zmax))
        zmin, zmax = -bound, bound
    figure = go.Figure(go.Heatmap(
        z=data.matrix, x=data.labels, y=data.labels, zmin=zmin, zmax=zmax,
        colorscale=DIFF_COLORSCALE if diverging else COLORSCALE, colorbar={"title": "cosine", "thickness": 12},
        hovertemplate="row %{y}<br>column %{x}<br>similarity %{z:.3f}<extra></extra>"))
    size = len(data.labels)
    for edge in data.boundaries:
        for axis in ("x", "y"):
            line = {"type": "line", "line": {"color": "white", "width": 2},
                    "x0": edge - 0.5, "x1": edge - 0.5, "y0": -0.5, "y1": size - 0.5} if axis == "x" else \
                   {"type": "line", "line": {"color": "white", "width": 2},
                    "y0": edge - 0.5, "y1": edge - 0.5, "x0": -0.5, "x1": size - 0.5}
            figure.add_shape(**line)
    centres = [data.labels[k * data.block + data.block // 2] for k in range(len(data.modalities))]
    axis = {"tickmode": "array", "tickvals": centres, "ticktext": data.modalities, "showgrid": False,
            "automargin": True}
    figure.update_layout(title=title, height=height, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                         xaxis=axis, yaxis={**axis, "autorange": "reversed", "scaleanchor": "x"})
    return figure


def add_cluster_marks(figure: go.Figure, data: HeatmapData, sizes: list[int], labels: list[str]) -> go.Figure:
    """Dotted lines between clusters inside every modality block (the rows must be in cluster order) and each
    cluster's label beside the first block (the colour bar moves below the matrix to make room)."""
    total = sum(sizes)
    edges = np.cumsum([0, *sizes]) * data.block / max(total, 1)
    size = len(data.labels)
    for k in range(len(data.modalities)):
        for edge in edges[1:-1]:
            at = k * data.block + edge - 0.5
            dotted = {"color": "rgba(255,255,255,0.7)", "width": 1, "dash": "dot"}
            figure.add_shape(type="line", x0=-0.5, x1=size - 0.5, y0=at, y1=at, line=dotted)
            figure.add_shape(type="line", y0=-0.5, y1=size - 0.5, x0=at, x1=at, line=dotted)
    for label, low, high in zip(labels, edges[:-1], edges[1:]):
        figure.add_annotation(x=1.0, xref="paper", xanchor="left", y=(low + high) / 2 - 0.5, yref="y",
                              text=(label or "")[:28], showarrow=False, font={"size": 10})
    figure.update_traces(colorbar={"orientation": "h", "y": -0.2, "thickness": 10, "title": None})
    figure.update_layout(margin={"r": 150})
    return figure


def zoom_window(data: HeatmapData, first_row: int, last_row: int) -> tuple[int, int]:
    """Positions (in the heatmap's order, window included) of the items that rows first_row..last_row of one
    modality block hold; a one-line error for rows outside the block."""
    rows = len(data.run_edges) - 1
    low, high = sorted((int(first_row), int(last_row)))
    if rows < 1 or low < 0 or high >= rows:
        raise GapscopeError(f"heatmap zoom: rows {first_row}-{last_row} outside the {max(rows, 0)} rows of a block")
    return data.offset + data.run_edges[low], data.offset + data.run_edges[high + 1]
