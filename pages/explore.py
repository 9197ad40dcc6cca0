"""Explore: Amumo's main view. Similarity heatmap linked to a projection scatter plot, gap closing, clustering,
the in-modal difference view, box/lasso selection summaries and item details."""
from __future__ import annotations

from itertools import product

import numpy as np
import pandas as pd
import streamlit as st

from dashboard.analysis.clustering import cluster_sizes
from dashboard.figures.heatmap import zoom_window
from dashboard.ui import charts, compute, state, widgets
from dashboard.ui.export import figure_buttons, table_buttons
from dashboard.ui.guard import shown_errors
from dashboard.ui.items import selection_summary, show_item
from dashboard.ui.linked import show_linked
from dashboard.ui.sidebar import View, selection, set_selection, sidebar

PROJECTIONS = {"pca": "PCA", "umap": "UMAP", "tsne": "t-SNE", "umap_oos": "UMAP out-of-sample"}

st.title("Explore")
view: View = sidebar()
st.metric("Items", f"{len(view.item_ids):,}")

top = st.columns(4)
# 0 = the embeddings as they are, 1 = Amumo's "close the modality gap" (the toggle this replaces, closed=1 in links)
closed = widgets.fraction("Close the modality gap (fraction)", "closed", 0.0, where=top[0])
mode = widgets.radio("Heatmap", ["similarity", "in-modal difference"], "view", "similarity", where=top[1])
lines = widgets.toggle("Lines between pairs", "lines", True, where=top[2])
colour_lines = widgets.toggle("Colour lines by pair cosine", "lc", True, where=top[3])

with st.expander("Cluster the matrix by similarity", expanded=False):
    cluster_on = widgets.toggle("Cluster the matrix by similarity", "cluster", False)
    blocks = [f"{a}_{b}" for a, b in product(view.modalities, repeat=2)]
    default_block = f"{view.modalities[1 % len(view.modalities)]}_{view.modalities[0]}"
    k = widgets.number("Clusters (k)", "k", 10, 1, 50)
    block = widgets.selectbox("Block to cluster on (rows_columns)", blocks, "block", default_block)

with st.expander("Projection", expanded=True):
    left, mid, right = st.columns(3)
    method = widgets.selectbox("Method", list(PROJECTIONS), "proj", "pca", where=left, format_func=PROJECTIONS.get)
    cx = widgets.number("x component (PCA)", "cx", 1, 1, compute.MAX_PCA_COMPONENTS, where=mid)
    cy = widgets.number("y component (PCA)", "cy", 2, 1, compute.MAX_PCA_COMPONENTS, where=right)

cluster_table = None
if cluster_on:
    with shown_errors(), st.spinner("Clustering…"):
        labels, names = compute.clusters(view.key, view.model, k, block, closed)
        cluster_table = {"cluster": sorted(set(int(c) for c in labels)), "size": cluster_sizes(labels), "label": names}

window = state.get("zoom", None, state.as_range)
zoom_bar = st.container()  # always drawn, so the linked view below keeps its place (and its frame) on a zoom
if window is not None:
    zoom_bar.caption(f"Zoomed into items {window[0] + 1:,}–{window[1]:,} of the heatmap's order "
                     "(click a block or drag a box on the heatmap to zoom further).")
    if zoom_bar.button("Show all items"):
        state.put("zoom", None)
        st.rerun()

ids = compute.item_ids(view.key, view.model) if view.model else []
with shown_errors(), st.spinner("Projecting…"):
    title = f"{PROJECTIONS[method]} · {view.model}"
    scatter_options = dict(closed=closed, method=method, cx=cx, cy=cy, lines=lines,
                   colour=colour_lines and len(view.modalities) > 1, title=title,
                   picked=charts.picked_rows(view.key, view.model, selection(view)))
    scatter = charts.scatter(view.key, view.model, **scatter_options)
    wanted, asked = (view.key, view.model, method, closed), st.session_state.setdefault("_gs_asked", set())
    if scatter is None and (wanted in asked or st.button(f"Compute {PROJECTIONS[method]} "
                                                         f"(at most {compute.MAX_EMBED_PAIRS} pairs)")):
        asked.add(wanted)
        with st.status(f"Computing {PROJECTIONS[method]}…", expanded=False):
            scatter = charts.scatter(view.key, view.model, **scatter_options, computed=True)
    elif scatter is None:
        st.info(f"{PROJECTIONS[method]} is not stored for this model; press the button to compute it.")

with shown_errors(), st.spinner("Building the heatmap…"):
    heat, shown, heat_fig = charts.explore_heatmap(view.key, view.model, closed, mode != "similarity",
                                                   (k, block) if cluster_on else None, window)
    event = show_linked(view, view.model, shown, heat_fig, scatter, key="explore_linked")
    if event and "selected" in event:
        set_selection([ids[int(i)] for i in sorted(set(event["selected"])) if 0 <= int(i) < len(ids)])
        st.rerun()  # redraw the scatter with the selection highlighted (the event is consumed, no loop)
    if event and "zoom" in event:
        state.put("zoom", "-".join(map(str, zoom_window(shown, *event["zoom"]))))
        st.rerun()
    if event and "item" in event:
        widgets.set_from_page("item", event["item"])
    figure_buttons(heat_fig, f"heatmap-{view.dataset}-{view.model}", "exp_heat", what="Heatmap",
                   data=lambda: pd.DataFrame(shown.matrix, columns=shown.labels).assign(row=shown.labels))
    if scatter is not None:
        figure_buttons(scatter, f"scatter-{view.dataset}-{view.model}", "exp_scatter", what="Scatter",
                       data=lambda: charts.points(view.key, view.model, closed, method, cx, cy, computed=True))

if cluster_table is not None:
    st.subheader("Clusters")
    frame = pd.DataFrame(cluster_table)
    st.dataframe(frame, hide_index=True)
    table_buttons(frame, f"clusters-{view.model}-{block}-{k}", "exp_clusters")
    options = ["none"] + [f"{c}: {n}" for c, n in zip(frame["cluster"], frame["label"])]

    def _pick_cluster() -> None:
        """Select the items of the chosen cluster."""
        chosen = st.session_state["w_select_cluster"]
        cid = None if chosen == "none" else int(chosen.split(":")[0])
        ids = compute.item_ids(view.key, view.model)
        set_selection([] if cid is None else [ids[i] for i in np.flatnonzero(labels == cid)])

    st.selectbox("Select a cluster", options, key="w_select_cluster", on_change=_pick_cluster)

picked = selection(view)
st.subheader("Selection")
if picked:
    selection_summary(view, picked)
    if st.button("Clear selection"):
        set_selection([])
        st.rerun()
else:
    st.caption("Select points with the box or lasso tool in the scatter plot, or pick a cluster.")

item = widgets.text("Show item (id)", "item", "")
if item:
    show_item(view, item)
