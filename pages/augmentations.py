"""Augmentations: a sweep (rotation, blur, noise, shifts) of one image across models; the similarity heatmap of
each model over the steps, with one colour scale, and the strip of augmented images."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import streamlit as st

from dashboard.figures.heatmap import color_range, heatmap_figure
from dashboard.ui import compute, loaders, widgets
from dashboard.ui.export import figure_buttons
from dashboard.ui.guard import shown_errors
from dashboard.ui.sidebar import View, sidebar

STRIP = 12


def sweep_table(view: View) -> pd.DataFrame:
    """The dataset's items with op, source_item and step from their extra JSON (ordinal order when absent)."""
    frame = loaders.items(view.store, view.version, view.dataset).reset_index(drop=True)
    extra = frame["extra"].map(lambda e: json.loads(e) if isinstance(e, str) and e.startswith("{") else {})
    return frame.assign(op=extra.map(lambda e: e.get("op", "sweep")),
                        source=extra.map(lambda e: str(e.get("source_item", view.dataset))),
                        step=[e.get("step", k) for k, e in zip(range(len(frame)), extra)])


st.title("Augmentations")
view: View = sidebar(multi_model=True, min_models=1, max_models=6)
key = (*view.key[:5], 0, view.key[6])  # the whole sweep (SQL and caption filters apply, no sampling)
table = sweep_table(view)
if (table["op"] == "sweep").all():
    st.info("This dataset is not an augmentation sweep (its items carry no op/step); its items are shown in order. "
            "Ingest one with the `augment` dataset (rotate, blur, noise, hshift, vshift).")
left, right = st.columns(2)
op = widgets.selectbox("Augmentation", sorted(table["op"].unique()), "aug", None, where=left)
source = widgets.selectbox("Source image", sorted(table.loc[table["op"] == op, "source"].unique()), "src", None,
                           where=right)
steps = table[(table["op"] == op) & (table["source"] == source)].sort_values("step")

with shown_errors():
    models = view.models or loaders.models_for(view.store, view.version, view.dataset)
    heats = {}
    for model in models:
        ids = compute.vectors(key, model)[0]
        position = {item: k for k, item in enumerate(ids)}
        order = tuple(position[i] for i in steps["item_id"] if i in position)
        if order:
            heats[model] = compute.heatmap(key, model, False, order, None)
    if not heats:
        st.warning(f"no model embedded the {op} sweep of {source}")
    else:
        zrange = color_range(*heats.values())
        columns = st.columns(min(len(heats), 3))
        for k, (model, data) in enumerate(heats.items()):
            figure = heatmap_figure(data, title=model, zrange=zrange, height=380)
            columns[k % len(columns)].plotly_chart(figure, key=f"aug_heat_{k}")
            with columns[k % len(columns)]:
                figure_buttons(figure, f"augment-{op}-{source}-{model}", f"aug_exp_{k}")

st.subheader("Image strip")
shown = steps.iloc[np.unique(np.linspace(0, len(steps) - 1, min(STRIP, len(steps))).round().astype(int))] \
    if len(steps) else steps
images = loaders.thumbnails(view.store, view.version, view.dataset, tuple(shown["item_id"]))
present = [r for r in shown.itertuples() if r.item_id in images]
if present:
    st.image([images[r.item_id] for r in present], caption=[f"step {r.step}" for r in present], width=72)
else:
    st.caption("No thumbnails stored for this sweep.")
if len(steps) and isinstance(steps["text"].iloc[0], str):
    st.markdown(f"Caption (fixed): *{steps['text'].iloc[0]}*")
