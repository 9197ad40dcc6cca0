"""Cached gap analyses (dashboard.gap_explained) for the subset in view: the block of the view's metrics object
(compute.view_summary: the store's when the view is the whole dataset, else computed on a seeded sample of at most
compute.METRICS_SAMPLE pairs of the view, with the metrics table's other figures, so nothing is computed twice);
the closing table at another fraction and the joint clustering at another k are recomputed on the same pairs
(without intervals). The page's figures are built once per view and options (`figure`, st.cache_resource):
plotly's make_subplots and validation cost about a second per rerun otherwise, at any N."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from dashboard.analysis.closing_methods import compare_closings
from dashboard.analysis.joint_clustering import joint_clustering
from dashboard.errors import GapscopeError
from dashboard.figures import gap_explained as gx
from dashboard.gap_explained import MIN_PAIRS
from dashboard.ui import compute, loaders
from dashboard.ui.compute import ViewKey


def _check(key: ViewKey, model: str) -> None:
    """The view must hold two modalities and at least MIN_PAIRS pairs (checked without reading the embeddings)."""
    pairs, modalities = len(compute.item_ids(key, model)), compute.modality_count(key)
    if modalities < 2 or pairs < MIN_PAIRS:
        raise GapscopeError(f"gap analysis of {model}: needs two modalities and at least {MIN_PAIRS} pairs in view, "
                            f"has {modalities} modalities and {pairs} pairs")


def _pairs(key: ViewKey, model: str) -> tuple[np.ndarray, np.ndarray, float]:
    """The first two modalities of the view's pairs (a seeded sample of at most METRICS_SAMPLE) and the scale."""
    _check(key, model)
    first, second = list(compute.sample(key, model)[1].values())[:2]
    scale = float(loaders.model_record(key.store, key.version, model)["logit_scale"])
    return first, second, scale


def analysis(key: ViewKey, model: str) -> dict:
    """The gap analysis block of the view's metrics object (compute.view_summary: the store's, or computed on a
    seeded sample of at most METRICS_SAMPLE pairs in view) with its "source" and its intervals under "ci"."""
    _check(key, model)
    summary = compute.view_summary(key, model)
    if not summary.get("gap_analysis"):
        raise GapscopeError(f"gap analysis of {model}: not possible on these pairs ({summary['source']})")
    ci = (summary.get("ci") or {}).get("gap_analysis", {})
    return {**summary["gap_analysis"], "ci": ci, "source": summary["source"]}


def _at(key: ViewKey, model: str, part: str, option: str, value: float | int, run: Callable[..., dict]) -> dict:
    """The analysis block `part` when its `option` equals `value`, else `run(a, b, scale, seed)` on the view."""
    stored = analysis(key, model)
    if stored[part][option] == value:
        return {**stored[part], "ci": stored["ci"].get(part, {})}
    a, b, scale = _pairs(key, model)
    return {**run(a, b, scale, stored["seed"]), "source": f"computed on {len(a)} pairs in view"}


@st.cache_data(max_entries=32, show_spinner=False)
def closing(key: ViewKey, model: str, fraction: float) -> dict:
    """The closing methods' block, the mean shift closing `fraction` of the gap."""
    return _at(key, model, "closing", "fraction", fraction,
               lambda a, b, scale, seed: compare_closings(a, b, scale, fraction, seed))


@st.cache_data(max_entries=32, show_spinner=False)
def joint(key: ViewKey, model: str, k: int) -> dict:
    """The joint clustering block with k clusters."""
    return _at(key, model, "joint_clustering", "k", k,
               lambda a, b, scale, seed: joint_clustering(a, b, min(k, len(a)), seed))


@st.cache_resource(max_entries=32, show_spinner=False)
def figure(key: ViewKey, models: tuple[str, ...], name: str, title: str, model: str = "", k: int = 10) -> go.Figure:
    """One figure of the gap analysis of `models`: "shape", "location" (of `model`), "ablation", "temperature" or
    "joint" (k clusters)."""
    blocks = {m: analysis(key, m) for m in models}
    if name == "location":
        return gx.location_figure(blocks[model], title)
    if name == "joint":
        return gx.joint_figure(gx.joint_table({m: joint(key, m, k) for m in models}, blocks), title)
    builders = {"shape": gx.shape_figure, "ablation": gx.ablation_figure, "temperature": gx.temperature_figure}
    return builders[name](blocks, title)
