"""Gap: every metric for every modality pair, the loss landscape of each model, and the view before and after
closing the gap (heatmaps with one colour scale, PCA projections)."""
from __future__ import annotations

from itertools import combinations

import pandas as pd
import streamlit as st

from dashboard.figures.heatmap import color_range, heatmap_figure
from dashboard.figures.landscape import landscape_figure
from dashboard.figures.scatter import pair_scatter
from dashboard.ui import compute, loaders, uncertainty, widgets
from dashboard.ui.export import figure_buttons, table_buttons
from dashboard.ui.guard import shown_errors
from dashboard.ui.sidebar import View, sidebar

st.title("Gap")
view: View = sidebar()
models = loaders.models_for(view.store, view.version, view.dataset)
st.caption(f"{len(view.item_ids):,} items in view; metrics are computed on the items in view (on a sample of "
           f"{compute.METRICS_SAMPLE:,} pairs when there are more, see column n). Intervals: "
           f"{uncertainty.LABEL}, {uncertainty.BOOTSTRAP_B} bootstrap resamples of the items (loss and recall at "
           f"a fixed gallery).")

st.subheader("Metrics for every modality pair")
with shown_errors(), st.spinner("Computing metrics…"):
    table = pd.concat([compute.pair_metrics(view.key, m) for m in models], ignore_index=True)
    source = uncertainty.source_of(view)
    table = uncertainty.with_intervals(table, {m: uncertainty.pair_intervals(source, m) for m in models})
    st.dataframe(table, hide_index=True, width="stretch")
    table_buttons(table, f"gap-metrics-{view.dataset}", "gap_table")

st.subheader("Loss landscape")
pairs = {f"{a}_{b}": (a, b) for a, b in combinations(view.modalities, 2)}
pair = widgets.selectbox("Modality pair", list(pairs), "pair", next(iter(pairs), None)) if pairs else None
if pair:
    first, second = pairs[pair]
    with shown_errors(), st.spinner("Shifting along the gap…"):
        curves = {m: compute.landscape(view.key, m, first, second) for m in models}
        figure = landscape_figure(curves, title=f"{view.dataset}: shifting {first} and {second} along the gap")
        st.plotly_chart(figure, key="gap_landscape")
        summary = pd.DataFrame([{"model": m, **{k: c[k] for k in ("original_distance", "original_loss",
                                 "closed_distance", "closed_loss", "loss_difference", "source") if k in c}}
                                for m, c in curves.items()])
        st.dataframe(summary, hide_index=True)
        figure_buttons(figure, f"landscape-{view.dataset}-{pair}", "gap_landscape_fig", data=summary)

st.subheader(f"Before and after closing the gap · {view.model}")
with shown_errors():
    before = compute.heatmap(view.key, view.model, False, None, None)
    after = compute.heatmap(view.key, view.model, True, None, None)
    zrange = color_range(before, after)
    left, right = st.columns(2)
    for column, data, name, closed in ((left, before, "original", False), (right, after, "gap closed", True)):
        figure = heatmap_figure(data, title=f"{view.model}: {name}", zrange=zrange, height=420)
        column.plotly_chart(figure, key=f"gap_heat_{closed}")
        points = compute.with_text(compute.pca_points(view.key, view.model, closed, 1, 2), view.key)
        cosine = compute.pair_cosines(view.key, view.model, closed) if len(view.modalities) > 1 else None
        scatter = pair_scatter(points, cosine, title=f"PCA: {name}", height=420)
        column.plotly_chart(scatter, key=f"gap_scatter_{closed}")
        with column:
            figure_buttons(figure, f"gap-heatmap-{view.model}-{name}", f"gap_heat_exp_{closed}")
