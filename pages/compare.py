"""Compare: two to four models side by side on the same items, with one colour scale and the same selection;
metric differences and the pairs on which the models disagree most."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.figures.heatmap import color_range
from dashboard.ui import charts, compute, uncertainty
from dashboard.ui.export import table_buttons
from dashboard.ui.guard import shown_errors
from dashboard.ui.items import selection_summary
from dashboard.ui.sidebar import View, selection, set_selection, sidebar

st.title("Compare")
view: View = sidebar(multi_model=True, min_models=2, max_models=4)
if len(view.models) < 2:
    st.info("Choose two to four models in the sidebar.")
    st.stop()


with shown_errors(), st.spinner("Comparing the models…"):
    models = tuple(view.models)
    ids = compute.common_ids(view.key, models)
    st.metric("Items compared", f"{len(ids):,}")
    picked = set(selection(view))
    heats = {m: compute.compared_heatmap(view.key, m, models) for m in models}
    zrange = color_range(*heats.values())
    columns = st.columns(len(models))
    for k, (column, model) in enumerate(zip(columns, models)):
        data = heats[model]
        title = model + (f"<br><sup>block means, {data.ordering}</sup>" if data.aggregated else "")
        column.plotly_chart(charts.heatmap(view.key, model, 0.0, zrange, title, 360, among=models),
                            key=f"cmp_heat_{k}")
        scatter = charts.scatter(view.key, model, title=f"PCA · {model}", height=360, among=models, text=True,
                                 picked=charts.picked_rows(view.key, model, sorted(picked)))
        event = column.plotly_chart(scatter, key=f"cmp_scatter_{k}", on_select="rerun",
                                    selection_mode=("box", "lasso"))
        chosen = [ids[int(p["customdata"])] for p in (event.selection.points if event else []) if "customdata" in p]
        if chosen and set(chosen) != picked:
            position = {item: k for k, item in enumerate(ids)}
            set_selection(sorted(set(chosen) & set(position), key=position.get))
            st.rerun()

    st.subheader("Metric differences")
    metrics = pd.concat([compute.pair_metrics(view.key, m) for m in view.models], ignore_index=True)
    numeric = metrics.select_dtypes("number").columns.drop("n", errors="ignore")
    base = metrics[metrics["model"] == view.models[0]].set_index("pair")[numeric]
    diffs = pd.concat([(metrics[metrics["model"] == m].set_index("pair")[numeric] - base).assign(model=m)
                       for m in view.models[1:]]).reset_index()
    source = uncertainty.source_of(view)
    metrics = uncertainty.with_intervals(metrics, {m: uncertainty.pair_intervals(source, m) for m in view.models})
    st.dataframe(metrics, hide_index=True)
    st.caption(f"Differences to {view.models[0]}:")
    st.dataframe(diffs, hide_index=True)
    table_buttons(metrics, "compare-metrics", "cmp_metrics")

    st.subheader("Pairs on which the models disagree most")
    st.caption("spread = largest minus smallest percentile of the pair's cosine among each model's pairs")
    table = compute.disagreement(view.key, models)
    st.dataframe(table.head(25), hide_index=True)
    table_buttons(table, "compare-disagreement", "cmp_disagree")

    st.subheader("Which differences are outside the paired-bootstrap interval")
    st.caption(f"Both models resampled on the same items ({uncertainty.BOOTSTRAP_B} resamples); significant = the "
               f"{uncertainty.LABEL} of the difference to {view.models[0]} excludes 0.")
    paired = uncertainty.paired_table(source, models)
    st.dataframe(paired, hide_index=True)
    table_buttons(paired, "compare-paired-bootstrap", "cmp_paired")

if picked:
    st.subheader("Selection (the same in every model)")
    selection_summary(view, sorted(picked))
