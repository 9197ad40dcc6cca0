"""Overview: every dataset x model in the store with gap distance, loss, recalls, alignment and uniformity."""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from dashboard.figures.bars import metric_bars
from dashboard.ui import compute, loaders, state
from dashboard.ui.export import figure_buttons, table_buttons
from dashboard.ui.guard import one_line
from dashboard.ui.sidebar import View, sidebar

CHART_METRICS = ["gap_distance", "loss", "R@1", "alignment", "relative_gap"]


def metrics_row(view: View, dataset: str, model: str) -> dict:
    """One table row of a (dataset, model): the headline metrics, or the error that stopped them."""
    try:
        m = compute.metrics_summary(view.store, view.version, dataset, model)
    except Exception as exc:  # noqa: BLE001 - one broken model must not hide the others
        return {"dataset": dataset, "model": model, "error": one_line(exc)}
    direction, recalls = next(iter(m.get("recall_at_k", {}).items()), ("", {}))
    uniform = m.get("uniformity", {})
    return {"dataset": dataset, "model": model, "n": m.get("n"), "gap_distance": m.get("gap_distance"),
            "loss": m.get("loss"), "retrieval": direction, **{f"R@{k}": v for k, v in recalls.items()},
            "alignment": m.get("alignment"),
            "uniformity": float(np.mean(list(uniform.values()))) if uniform else None,
            "relative_gap": m.get("relative_gap"), "source": m.get("source")}


st.title("Overview")
view: View = sidebar()
pairs = loaders.coverage(view.store, view.version)[["dataset", "model"]].drop_duplicates()
st.caption(f"Store {view.store}: {pairs['dataset'].nunique()} datasets, {pairs['model'].nunique()} models, "
           f"{len(pairs)} embedded (dataset, model) pairs. Metrics come from the store's precomputed summary "
           "when present, otherwise they are computed here (on a sample of large datasets) and cached.")

with st.spinner("Reading metrics…"):
    table = pd.DataFrame([metrics_row(view, r.dataset, r.model) for r in pairs.itertuples()])
st.dataframe(table, hide_index=True, width="stretch")
table_buttons(table, "gapscope-metrics", "overview_table")
if "error" in table:
    for row in table.dropna(subset=["error"]).itertuples():
        st.error(f"{row.dataset} / {row.model}: {row.error}")

chart_rows = table[table["dataset"] == view.dataset].assign(label=lambda t: t["model"])
shown = [m for m in CHART_METRICS if m in chart_rows and chart_rows[m].notna().any()]
if shown:
    figure = metric_bars(chart_rows, shown, label="label", title=f"{view.dataset}: metrics per model")
    st.plotly_chart(figure, key="overview_bars")
    figure_buttons(figure, f"metrics-{view.dataset}", "overview_fig", data=chart_rows[["model", *shown]])

st.subheader("Go to")
links = st.columns(6)
params = state.shared_params()
for column, (path, label) in zip(links, [("pages/explore.py", "Explore"), ("pages/gap.py", "Gap"),
                                         ("pages/compare.py", "Compare"), ("pages/augmentations.py", "Augmentations"),
                                         ("pages/sql.py", "SQL"), ("pages/search.py", "Search")]):
    if (loaders.REPO_ROOT / path).is_file():
        column.page_link(path, label=label, query_params=params)
