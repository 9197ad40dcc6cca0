"""Projection scatter plots in WebGL (go.Scattergl): one trace per modality, lines between pair members.

Built for 100,000 pairs in view: every coordinate, colour value and item index goes to plotly as a numpy array,
which plotly serialises as a binary typed array (base64 "bdata") instead of one JSON number per value; line
segments are float32 arrays with NaN between segments (a gap in a WebGL line trace). Markers shrink and turn
transparent as N grows (`marker_style`), so dense clusters and the gap read as density instead of solid blobs.
Lines are drawn after the markers (above them), so their pair-cosine colours stay readable; above `MAX_LINES`
pairs a fixed, evenly spaced sample of the pairs gets lines (all points stay drawn; the title says how many), and
with a selection the lines are those of the selected pairs. Markers carry their item's index in `ids` as
customdata (an int32 array, not item id strings); `ids` is the caller's index space (default: the points' items
in order of appearance).

Lines can be coloured by the pair's cosine similarity in the full embedding space (Amumo's suggestion), so a
long line caused by the projection is told apart from a pair the model really separates. WebGL line traces take
one colour each, so the cosines are cut into `LINE_BINS` equal-width bins, one line trace per bin.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.colors as pc
import plotly.graph_objects as go

LINE_BINS = 8
MAX_LINES = 3000
MAX_HOVER_TEXT = 5000
MODALITY_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]


def marker_style(n: int) -> tuple[float, float]:
    """(marker size in px, opacity) for n points of one modality: 6 px opaque up to 1,000, smaller and more
    transparent beyond (2 px at 0.2 opacity at 100,000), so overlapping points add up to a density."""
    if n <= 1000:
        return 6.0, 0.9
    scale = np.log10(n / 1000) / 2  # 0 at 1k, 1 at 100k
    return float(max(2.0, 6 - 4 * scale)), float(max(0.15, 0.9 - 0.7 * scale))


def _line_items(both: np.ndarray, highlight: np.ndarray | None) -> tuple[np.ndarray, str]:
    """Indices (into `ids`) of the pairs that get lines, and a note when not all of them do."""
    chosen = both if highlight is None else np.intersect1d(both, highlight)
    if len(chosen) <= MAX_LINES:
        return chosen, "" if highlight is None else f"lines: the {len(chosen):,} selected pairs"
    keep = np.unique(np.linspace(0, len(chosen) - 1, MAX_LINES).round().astype(np.int64))
    what = "selected pairs" if highlight is not None else "pairs"
    return chosen[keep], f"lines: {len(keep):,} of {len(chosen):,} {what} (evenly spaced)"


def _segments(xy: dict[str, np.ndarray], first: str, second: str, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """float32 x and y arrays of segments (NaN-separated) joining each chosen item's two points."""
    xs = np.full(3 * len(rows), np.nan, dtype=np.float32)
    ys = np.full(3 * len(rows), np.nan, dtype=np.float32)
    xs[0::3], xs[1::3] = xy[first][rows, 0], xy[second][rows, 0]
    ys[0::3], ys[1::3] = xy[first][rows, 1], xy[second][rows, 1]
    return xs, ys


def _line_traces(xy: dict[str, np.ndarray], first: str, second: str, rows: np.ndarray,
                 cosine: np.ndarray | None) -> list[go.Scattergl]:
    """Line traces for the chosen items: grey, or one trace per pair-cosine bin plus a colour bar."""
    width = 1.2 if len(rows) <= 500 else 0.8
    if cosine is None:
        x, y = _segments(xy, first, second, rows)
        return [go.Scattergl(x=x, y=y, mode="lines", line={"color": "rgba(80,80,80,0.45)", "width": width},
                             hoverinfo="skip", showlegend=False, name="pairs")]
    values = cosine[rows]
    finite = values[np.isfinite(values)]
    low, high = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
    edges = np.linspace(low, high + 1e-9, LINE_BINS + 1)
    colours = pc.sample_colorscale("Viridis", list(np.linspace(0, 1, LINE_BINS)))
    bins = np.digitize(values, edges[1:-1])
    traces = []
    for k in range(LINE_BINS):
        chosen = rows[(bins == k) & np.isfinite(values)]
        if len(chosen):
            x, y = _segments(xy, first, second, chosen)
            traces.append(go.Scattergl(x=x, y=y, mode="lines", line={"color": colours[k], "width": width},
                                       opacity=0.8, hoverinfo="skip", showlegend=False,
                                       name=f"cosine {edges[k]:.2f}"))
    traces.append(go.Scattergl(x=[None], y=[None], mode="markers", hoverinfo="skip", showlegend=False,
                               marker={"color": [low], "cmin": low, "cmax": high, "colorscale": "Viridis",
                                       "showscale": True, "colorbar": {"title": "pair cosine"}}))
    return traces


def _coordinates(points: pd.DataFrame, modalities: list[str], ids: list[str]) -> tuple[dict, dict]:
    """Per modality: an (len(ids), 2) float32 array (NaN where an item has no point) and the indices present."""
    index = pd.Index(ids)
    xy, present = {}, {}
    for m in modalities:
        part = points[points["modality"] == m]
        rows = index.get_indexer(part["item_id"].astype(str))
        keep = rows >= 0
        grid = np.full((len(ids), 2), np.nan, dtype=np.float32)
        grid[rows[keep]] = part[["x", "y"]].to_numpy(np.float32)[keep]
        xy[m], present[m] = grid, np.sort(rows[keep])
    return xy, present


def _marker_trace(name: str, colour: str, xy: np.ndarray, rows: np.ndarray, size: float, opacity: float,
                  captions: np.ndarray | None) -> go.Scattergl:
    """One modality's markers; customdata = the items' indices."""
    text = None if captions is None else captions[rows]
    hover = f"{name} #%{{customdata}}" + ("<br>%{text}" if text is not None else "") + "<extra></extra>"
    return go.Scattergl(x=xy[rows, 0], y=xy[rows, 1], mode="markers", name=name, customdata=rows.astype(np.int32),
                        text=text, marker={"size": size, "color": colour, "opacity": opacity, "line": {"width": 0}},
                        hovertemplate=hover)


def _captions(points: pd.DataFrame, ids: list[str]) -> np.ndarray | None:
    """Short captions of every item of `ids` for hover text (object array), or None without a text column or
    with more than MAX_HOVER_TEXT items (the captions would outweigh the points)."""
    if "text" not in points or len(ids) > MAX_HOVER_TEXT:
        return None
    captions = points.drop_duplicates("item_id").set_index("item_id")["text"]
    return captions.reindex(ids).fillna("").astype(str).str.slice(0, 60).to_numpy(dtype=object)


def pair_scatter(points: pd.DataFrame, cosine: pd.Series | None = None, lines: bool = True, title: str = "",
                 highlight: set[str] | None = None, height: int = 520, ids: list[str] | None = None) -> go.Figure:
    """Scatter of projected points (item_id, modality, x, y; optional text) with lines between pair members above
    the markers; the selected items (`highlight`) drawn on top of dimmed markers."""
    ids = [str(i) for i in (ids if ids is not None else points["item_id"].drop_duplicates())]
    modalities = [str(m) for m in points["modality"].unique().tolist()]  # in order of appearance
    xy, present = _coordinates(points, modalities, ids)
    picked = None if not highlight else np.flatnonzero(pd.Index(ids).isin(list(highlight)))
    captions = _captions(points, ids)
    traces = []
    for k, m in enumerate(modalities):
        size, opacity = marker_style(len(present[m]))
        colour = MODALITY_COLOURS[k % len(MODALITY_COLOURS)]
        traces.append(_marker_trace(m, colour, xy[m], present[m], size, opacity * (0.3 if picked is not None else 1),
                                    captions))
    note = ""
    if lines and len(modalities) > 1:
        values = None if cosine is None else cosine.reindex(ids).to_numpy(np.float64)
        for first, second in zip(modalities[:-1], modalities[1:]):
            rows, note = _line_items(np.intersect1d(present[first], present[second]), picked)
            traces += _line_traces(xy, first, second, rows, values)
    for k, m in enumerate(modalities if picked is not None else []):
        rows = np.intersect1d(present[m], picked)
        traces.append(_marker_trace(f"{m} (selected)", MODALITY_COLOURS[k % len(MODALITY_COLOURS)], xy[m], rows,
                                    max(marker_style(len(rows))[0], 5), 1.0, captions))
    figure = go.Figure(traces)
    figure.update_layout(title=title + (f"<br><sup>{note}</sup>" if note else ""), height=height, dragmode="lasso",
                         margin={"l": 50, "r": 10, "t": 50 if note else 40, "b": 10},
                         legend={"orientation": "h", "y": -0.08})
    return figure
