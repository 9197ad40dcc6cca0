"""Overview: per dataset, each model's gap distance (with its interval when stored), loss and Recall@k as one
compact chart, real datasets first, with one-click links into Explore, Gap and Compare; augmentation sweeps on
their own; every number in a table at the end."""
from __future__ import annotations

import streamlit as st

from dashboard.figures.overview import model_chart
from dashboard.ui import loaders, overview
from dashboard.ui.export import table_buttons
from dashboard.ui.sidebar import View, sidebar

st.title("Overview")
view: View = sidebar()
with st.spinner("Reading metrics…"):
    table = overview.metrics_table(view.store, view.version)
descriptions = loaders.datasets(view.store, view.version).set_index("name")["description"]
st.caption(f"Store {view.store}: {table['dataset'].nunique()} datasets, {table['model'].nunique()} models. The gap "
           "distance is the length of the vector between the mean image and the mean text embedding; recall is the "
           "share of images whose own caption is among the k nearest. Metrics come from the store's precomputed "
           "summary when present, otherwise they are computed here and cached.")

real = table[~table["sweep"]] if not table.empty else table
for dataset, rows in real.groupby("dataset", sort=False):
    st.subheader(dataset)
    st.caption(str(descriptions.get(dataset) or ""))
    shown = rows.dropna(subset=["gap_distance"])
    if not shown.empty:
        st.plotly_chart(model_chart(shown), key=f"overview_{dataset}", config={"displayModeBar": False})
    with st.expander("Open a model in Explore, Gap or Compare", expanded=True):
        for model in rows["model"]:
            overview.model_links(dataset, model, rows["model"].tolist())
    for row in rows.dropna(subset=["error"]).itertuples():
        st.error(f"{row.dataset} / {row.model}: {row.error}")

sweeps = overview.sweeps_tables(table, view.store, view.version)
if sweeps:
    st.subheader("Augmentation sweeps")
    st.caption("One image augmented in steps, its caption fixed: the gap distance of each sweep per model. Open one "
               "in Augmentations to see each model's similarity heatmap over the steps.")
for models, frame in sweeps.items():
    st.markdown(f"**{models}**")
    st.dataframe(frame, hide_index=True, width="stretch", key=f"overview_sweeps_{models}")
    with st.expander("Open a sweep in Augmentations"):
        links = st.columns(5)
        for k, row in enumerate(frame.itertuples(index=False)):
            keys = {"src": row[1], "aug": row[2]}
            overview.sweep_link(row.dataset, keys, models.split(", "), where=links[k % 5])

st.subheader("Every dataset and model")
full = table.drop(columns=["gap_ci", "sweep"], errors="ignore").dropna(axis=1, how="all")
st.dataframe(full, hide_index=True, width="stretch", key="overview_table")
table_buttons(full, "gapscope-metrics", "overview_table")
