"""Projection scatter plots in WebGL (go.Scattergl): one trace per modality, lines between pair members.

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
MODALITY_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]


def _segments(points: pd.DataFrame, first: str, second: str, items: list[str]) -> tuple[list, list]:
    """x and y arrays of line segments (None-separated) joining each item's two points."""
    a = points[points["modality"] == first].set_index("item_id")
    b = points[points["modality"] == second].set_index("item_id")
    items = [i for i in items if i in a.index and i in b.index]
    xs = np.full(3 * len(items), np.nan)
    ys = np.full(3 * len(items), np.nan)
    xs[0::3], xs[1::3] = a.loc[items, "x"].to_numpy(), b.loc[items, "x"].to_numpy()
    ys[0::3], ys[1::3] = a.loc[items, "y"].to_numpy(), b.loc[items, "y"].to_numpy()
    return [None if np.isnan(v) else float(v) for v in xs], [None if np.isnan(v) else float(v) for v in ys]


def _line_traces(points: pd.DataFrame, modalities: list[str], cosine: pd.Series | None) -> list[go.Scattergl]:
    """Line traces between consecutive modalities of each item, grey or binned by pair cosine."""
    traces = []
    items = points["item_id"].drop_duplicates().tolist()
    for first, second in zip(modalities[:-1], modalities[1:]):
        if cosine is None:
            x, y = _segments(points, first, second, items)
            traces.append(go.Scattergl(x=x, y=y, mode="lines", line={"color": "rgba(120,120,120,0.35)", "width": 1},
                                       hoverinfo="skip", showlegend=False, name="pairs"))
            continue
        values = cosine.reindex(items)
        low, high = float(np.nanmin(values)), float(np.nanmax(values))
        edges = np.linspace(low, high + 1e-9, LINE_BINS + 1)
        colours = pc.sample_colorscale("Viridis", list(np.linspace(0, 1, LINE_BINS)))
        for k in range(LINE_BINS):
            chosen = [i for i, v in values.items() if edges[k] <= v < edges[k + 1]]
            if chosen:
                x, y = _segments(points, first, second, chosen)
                traces.append(go.Scattergl(x=x, y=y, mode="lines", line={"color": colours[k], "width": 1.2},
                                           hoverinfo="skip", showlegend=False, name=f"cosine {edges[k]:.2f}"))
        traces.append(go.Scattergl(x=[None], y=[None], mode="markers", hoverinfo="skip", showlegend=False,
                                   marker={"color": [low], "cmin": low, "cmax": high, "colorscale": "Viridis",
                                           "showscale": True, "colorbar": {"title": "pair cosine"}}))
    return traces


def pair_scatter(points: pd.DataFrame, cosine: pd.Series | None = None, lines: bool = True, title: str = "",
                 highlight: set[str] | None = None, height: int = 520) -> go.Figure:
    """Scatter of projected points (item_id, modality, x, y; optional text) with lines between pair members."""
    modalities = list(dict.fromkeys(points["modality"]))
    traces = _line_traces(points, modalities, cosine) if lines and len(modalities) > 1 else []
    for k, modality in enumerate(modalities):
        part = points[points["modality"] == modality]
        opacity = [1.0 if not highlight or i in highlight else 0.2 for i in part["item_id"]]
        text = part["text"].fillna("").str.slice(0, 60) if "text" in part else None
        traces.append(go.Scattergl(
            x=part["x"], y=part["y"], mode="markers", name=modality, customdata=part["item_id"], text=text,
            marker={"size": 6, "color": MODALITY_COLOURS[k % len(MODALITY_COLOURS)], "opacity": opacity},
            hovertemplate=f"{modality} %{{customdata}}" + ("<br>%{text}" if text is not None else "") + "<extra></extra>"))
    figure = go.Figure(traces)
    figure.update_layout(title=title, height=height, dragmode="lasso", margin={"l": 50, "r": 10, "t": 40, "b": 10},
                         legend={"orientation": "h", "y": -0.08})
    return figure
