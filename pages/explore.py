"""Explore: Amumo's main view. Similarity heatmap linked to a projection scatter plot, gap closing, clustering,
the in-modal difference view, box/lasso selection summaries and item details."""
from __future__ import annotations

from itertools import product

import numpy as np
import pandas as pd
import streamlit as st

from dashboard.analysis.clustering import cluster_sizes, sort_order
from dashboard.figures.heatmap import add_cluster_marks, difference_blocks, heatmap_figure, zoom_window
from dashboard.figures.scatter import pair_scatter
from dashboard.ui import compute, state, widgets
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

order, cluster_table = None, None
if cluster_on:
    with shown_errors(), st.spinner("Clustering…"):
        labels, names = compute.clusters(view.key, view.model, k, block, closed)
        order = np.asarray(sort_order(labels), dtype=np.int64)
        cluster_table = {"cluster": sorted(set(int(c) for c in labels)), "size": cluster_sizes(labels), "label": names}

window = state.get("zoom", None, state.as_range)
zoom_bar = st.container()  # always drawn, so the linked view below keeps its place (and its frame) on a zoom
if window is not None:
    zoom_bar.caption(f"Zoomed into items {window[0] + 1:,}–{window[1]:,} of the heatmap's order "
                     "(click a block or drag a box on the heatmap to zoom further).")
    if zoom_bar.button("Show all items"):
        state.put("zoom", None)
        st.rerun()

ids = compute.vectors(view.key, view.model)[0] if view.model else []
points, scatter = None, None
with shown_errors(), st.spinner("Projecting…"):
    if method == "pca":
        points = compute.pca_points(view.key, view.model, closed, cx, cy)
    else:
        points = compute.stored_points(view.key, view.model, method, closed)
        wanted, asked = (view.key, view.model, method, closed), st.session_state.setdefault("_gs_asked", set())
        if points is None and (wanted in asked or st.button(f"Compute {PROJECTIONS[method]} "
                                                            f"(at most {compute.MAX_EMBED_PAIRS} pairs)")):
            asked.add(wanted)
            with st.status(f"Computing {PROJECTIONS[method]}…", expanded=False):
                points = compute.computed_points(view.key, view.model, method, closed, view.subset["seed"])
        elif points is None:
            st.info(f"{PROJECTIONS[method]} is not stored for this model; press the button to compute it.")
    if points is not None:
        cosine = compute.pair_cosines(view.key, view.model, closed) if colour_lines and len(view.modalities) > 1 \
            else None
        scatter = pair_scatter(points, cosine, lines, title=f"{PROJECTIONS[method]} · {view.model}",
                               highlight=set(selection(view)) or None, ids=ids)

with shown_errors(), st.spinner("Building the heatmap…"):
    heat = compute.heatmap(view.key, view.model, closed, order, window,  # the same cache entry as Gap's
                           ordering="given order" if order is None else "cluster order")
    shown = difference_blocks(heat, view.modalities[0], view.modalities[1]) if mode != "similarity" and \
        len(view.modalities) > 1 else heat
    blocks_note = f"<br><sup>block means, {heat.ordering}: click a block or drag a box to zoom</sup>" \
        if heat.aggregated else ""
    closing = {0.0: "", 1.0: " (gap closed)"}.get(closed, f" ({closed:.0%} of the gap closed)")
    title = f"{view.model}{closing}{blocks_note}"
    heat_fig = heatmap_figure(shown, title=title, diverging=mode != "similarity")
    if cluster_table is not None and window is None:
        add_cluster_marks(heat_fig, shown, cluster_table["size"], cluster_table["label"])
    event = show_linked(view, view.model, shown, heat_fig, scatter, key="explore_linked")
    if event and "selected" in event:
        set_selection([ids[int(i)] for i in sorted(set(event["selected"])) if 0 <= int(i) < len(ids)])
        st.rerun()  # redraw the scatter with the selection highlighted (the event is consumed, no loop)
    if event and "zoom" in event:
        state.put("zoom", "-".join(map(str, zoom_window(shown, *event["zoom"]))))
        st.rerun()
    if event and "item" in event:
        widgets.set_from_page("item", event["item"])
    matrix = pd.DataFrame(shown.matrix, columns=shown.labels).assign(row=shown.labels)
    figure_buttons(heat_fig, f"heatmap-{view.dataset}-{view.model}", "exp_heat", data=matrix, what="Heatmap")
    if scatter is not None:
        figure_buttons(scatter, f"scatter-{view.dataset}-{view.model}", "exp_scatter", data=points, what="Scatter")

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
        ids = compute.vectors(view.key, view.model, closed)[0]
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
