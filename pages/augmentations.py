"""Augmentations: a sweep (rotation, blur, noise, shifts) of one image across models; the similarity heatmap of
each model over the steps, with one colour scale, and the strip of augmented images.

Sweeps are found in two layouts: datasets of kind "sweep" (the bundled demo: one dataset per image and
augmentation) and datasets whose items carry op/step in their metadata (the `augment` ingest source: every op
of some images in one dataset). The sidebar's SQL, caption filter and sample size do not apply here. A sweep's
heatmap reads only its steps' embeddings (compute.items_heatmap), so a sweep of 20 steps costs the same in a dataset
of 100,000 items.
"""
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
from dashboard.ui.state import ViewKey

STRIP = 12
FALLBACK_STEPS = 200  # items of a dataset without sweeps shown as one (400 rows, every cell: ~2 MB)


def sweep_items(view: View, dataset: str) -> pd.DataFrame:
    """Items of one dataset with op, source and step from their metadata (empty when they carry no op)."""
    frame = loaders.items(view.store, view.version, dataset).reset_index(drop=True)
    extra = frame["extra"].map(lambda e: json.loads(e) if isinstance(e, str) and e.startswith("{") else {})
    ops = extra.map(lambda e: e.get("op"))
    sources = extra.map(lambda e: str(e.get("source_item", e.get("source_image", dataset))))
    steps = [e.get("step", k) for k, e in enumerate(extra)]
    found = frame.assign(dataset=dataset, op=ops, source=sources, step=steps)
    return found[found["op"].notna()]


def all_sweeps(view: View) -> pd.DataFrame:
    """Every sweep item in the store: sweep datasets and the chosen dataset."""
    listed = loaders.datasets(view.store, view.version)
    names = list(dict.fromkeys([view.dataset, *listed.loc[listed["kind"] == "sweep", "name"]]))
    return pd.concat([sweep_items(view, name) for name in names], ignore_index=True)


st.title("Augmentations")
view: View = sidebar(multi_model=True, min_models=1, max_models=6)
table = all_sweeps(view)
if table.empty:
    st.info(f"The store has no augmentation sweep (datasets of kind 'sweep' or items with op/step); the chosen "
            f"dataset's first {FALLBACK_STEPS} items are shown in order. Ingest one with the `augment` dataset source.")
    table = loaders.items(view.store, view.version, view.dataset).head(FALLBACK_STEPS).assign(
        dataset=view.dataset, op="none", source=view.dataset).reset_index(drop=True)
    table["step"] = np.arange(len(table))
left, right = st.columns(2)
source = widgets.selectbox("Source image", sorted(table["source"].unique()), "src", None, where=left)
op = widgets.selectbox("Augmentation", sorted(table.loc[table["source"] == source, "op"].unique()), "aug", None,
                       where=right)
steps = table[(table["source"] == source) & (table["op"] == op)].sort_values("step")
dataset = steps["dataset"].iloc[0]
steps = steps[steps["dataset"] == dataset]
key = ViewKey.whole(view.store, view.version, dataset)

with shown_errors():
    embedded = loaders.models_for(view.store, view.version, dataset)
    models = [m for m in view.models if m in embedded] or embedded
    heats = {}
    for model in models:
        embedded_ids = set(compute.item_ids(key, model))
        shown_ids = tuple(i for i in steps["item_id"] if i in embedded_ids)
        if shown_ids:
            heats[model] = compute.items_heatmap(key, model, shown_ids)
    if not heats:
        st.warning(f"no model embedded the {op} sweep of {source}")
    else:
        zrange = color_range(*heats.values())
        columns = st.columns(min(len(heats), 3))
        for k, (model, data) in enumerate(heats.items()):
            figure = heatmap_figure(data, title=model, zrange=zrange, height=380)
            columns[k % len(columns)].plotly_chart(figure, key=f"aug_heat_{k}")
            with columns[k % len(columns)]:
                figure_buttons(figure, f"augment-{op}-{source}-{model}", f"aug_exp_{k}", what="Heatmap")

st.subheader("Image strip")
shown = steps.iloc[np.unique(np.linspace(0, len(steps) - 1, min(STRIP, len(steps))).round().astype(int))] \
    if len(steps) else steps
images = loaders.thumbnails(view.store, view.version, dataset, tuple(shown["item_id"]))
present = [r for r in shown.itertuples() if r.item_id in images]
if present:
    st.image([images[r.item_id] for r in present], caption=[f"step {r.step}" for r in present], width=72)
else:
    st.caption("No thumbnails stored for this sweep.")
if len(steps) and isinstance(steps["text"].iloc[0], str):
    st.markdown(f"Caption (fixed): *{steps['text'].iloc[0]}*")
