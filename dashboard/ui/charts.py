"""Cached figures of the view: the projection scatter and the heatmaps the pages draw, built once per view.

Building a plotly figure of 100,000 pairs costs seconds (plotly validates and copies every array), and a rerun
that only moves an unrelated widget would build the same figure again. So each figure is an st.cache_resource
entry keyed by the view (ViewKey), the model and the figure's own options; the selection is passed as a sorted
int64 array of item indices (hashed as bytes, not item by item). Callers never modify a returned figure (Explore's
cluster marks are added here, inside the cached builder); its JSON is derived once per object (dashboard/ui/memo.py).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard.analysis.clustering import cluster_sizes, sort_order
from dashboard.figures.heatmap import HeatmapData, add_cluster_marks, difference_blocks, heatmap_figure
from dashboard.figures.scatter import MAX_HOVER_TEXT, pair_scatter
from dashboard.ui import compute
from dashboard.ui.state import ViewKey


def picked_rows(key: ViewKey, model: str, picked: list[str]) -> np.ndarray | None:
    """Sorted indices of the selected items in the model's items of the view (None without a selection)."""
    if not picked:
        return None
    rows = compute.positions(key, model).get_indexer(picked)
    return np.unique(rows[rows >= 0]).astype(np.int64)


def points(key: ViewKey, model: str, closed: float, method: str, cx: int, cy: int,
            computed: bool) -> pd.DataFrame | None:
    """The projected points: PCA components cx, cy; a stored projection; or (when `computed`) one computed."""
    if method == "pca":
        return compute.pca_points(key, model, closed, cx, cy)
    frame = compute.stored_points(key, model, method, closed)
    if frame is None and computed:
        frame = compute.computed_points(key, model, method, closed, key.seed)
    return frame


@st.cache_resource(max_entries=24, show_spinner=False)
def scatter(key: ViewKey, model: str, closed: float = 0.0, method: str = "pca", cx: int = 1, cy: int = 2,
            lines: bool = True, colour: bool = True, picked: np.ndarray | None = None, title: str = "",
            height: int = 520, among: tuple[str, ...] = (), text: bool = False,
            computed: bool = False) -> go.Figure | None:
    """The pair scatter of the view (None when the projection is neither stored nor computed): items indexed as
    compute.item_ids(key, model), or as compute.common_ids(key, among) when `among` names the compared models;
    captions as hover text when `text` (up to MAX_HOVER_TEXT items)."""
    frame = points(key, model, closed, method, cx, cy, computed)
    if frame is None:
        return None
    ids = compute.item_ids(key, model)
    highlight = None if picked is None else {ids[i] for i in picked}
    if among and len(compute.common_ids(key, among)) != len(ids):
        ids = compute.common_ids(key, among)
        frame = frame[frame["item_id"].isin(set(ids))]
    if text and len(ids) <= MAX_HOVER_TEXT:
        frame = compute.with_text(frame, key)
    cosine = compute.pair_cosines(key, model, closed) if colour and frame["modality"].nunique() > 1 else None
    return pair_scatter(frame, cosine, lines, title=title, highlight=highlight, height=height, ids=ids)


@st.cache_resource(max_entries=24, show_spinner=False)
def explore_heatmap(key: ViewKey, model: str, closed: float, difference: bool, cluster: tuple[int, str] | None,
                    window: tuple[int, int] | None) -> tuple[HeatmapData, HeatmapData, go.Figure]:
    """Explore's heatmap: (the similarity heatmap, what is shown: it or the in-modal difference, the figure),
    in cluster order when `cluster` = (k, block) is given (cluster marks drawn when not zoomed)."""
    order, sizes, names = None, None, None
    if cluster is not None:
        labels, names = compute.clusters(key, model, cluster[0], cluster[1], closed)
        order, sizes = np.asarray(sort_order(labels), dtype=np.int64), cluster_sizes(labels)
    heat = compute.heatmap(key, model, closed, order, window,  # the same cache entry as Gap's
                           ordering="given order" if order is None else "cluster order")
    modalities = heat.modalities
    shown = difference_blocks(heat, modalities[0], modalities[1]) if difference and len(modalities) > 1 else heat
    note = f"<br><sup>block means, {heat.ordering}: click a block or drag a box to zoom</sup>" if heat.aggregated \
        else ""
    closing = {0.0: "", 1.0: " (gap closed)"}.get(float(closed), f" ({closed:.0%} of the gap closed)")
    figure = heatmap_figure(shown, title=f"{model}{closing}{note}",
                            diverging=difference and len(modalities) > 1)
    if sizes is not None and window is None:
        add_cluster_marks(figure, shown, sizes, names)
    return heat, shown, figure


@st.cache_resource(max_entries=24, show_spinner=False)
def heatmap(key: ViewKey, model: str, closed: float, zrange: tuple[float, float], title: str, height: int,
            among: tuple[str, ...] = ()) -> go.Figure:
    """A heatmap figure of the view with a given colour range (Gap's before/after, Compare's models); with `among`,
    of the items every compared model embedded, in the first model's PC 1 order (compute.compared_heatmap)."""
    data = compute.compared_heatmap(key, model, among) if among else compute.heatmap(key, model, closed, None, None)
    return heatmap_figure(data, title=title, zrange=zrange, height=height)
