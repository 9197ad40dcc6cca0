"""Bootstrap intervals of the view's metrics for the Gap and Compare pages (dashboard.intervals), cached.

The metrics table's intervals are those of the view's metrics object (compute.view_summary: the store's, or
compute_metrics' B = BOOTSTRAP_B resamples of the items the table uses, the seeded sample of at most
compute.METRICS_SAMPLE pairs of the view); Compare's paired bootstrap resamples the same items in both models
(dashboard.paired_bootstrap: its rows for the whole dataset are read from the store when stored for the same sample).
Tables name their columns as dashboard.metrics_table does.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import metrics_table
from dashboard.intervals import ItemTerms
from dashboard.paired_bootstrap import BOOTSTRAP_B, LABEL, format_interval, paired_rows, sample_ids, terms_of
from dashboard.ui import compute, loaders
from dashboard.ui.sidebar import View

__all__ = ["BOOTSTRAP_B", "LABEL", "paired_table", "pair_intervals", "source_of", "with_intervals"]
Source = tuple  # (view key, store path, store version, sample seed): what the cached functions read


def source_of(view: View) -> Source:
    """The view's key with the store, version and sample seed that the metrics table uses."""
    return view.key, view.store, view.version, int(view.subset["seed"])


def _terms(source: Source, model: str, ids: list[str]) -> ItemTerms:
    """Per-item terms of the model on the metrics sample `ids`; only the sample's embeddings are read
    (loaders.some_pairs)."""
    key, store, version, _ = source
    scale = float(loaders.model_record(store, version, model)["logit_scale"])
    return terms_of(loaders.some_pairs(store, version, key.dataset, model, tuple(ids)), scale)


def pair_intervals(source: Source, model: str) -> dict[str, dict[str, list[float]]]:
    """{pair "a_b": {column: [lo, hi]}} for every modality pair of the view: the intervals of the view's metrics
    object (compute.view_summary, the same object the table's values come from)."""
    return metrics_table.pair_intervals(compute.view_summary(source[0], model))


def with_intervals(table: pd.DataFrame, intervals: dict[str, dict[str, dict[str, list[float]]]]) -> pd.DataFrame:
    """The metrics table with a "<column> 95% CI" text column after every column that has an interval
    (intervals by model, then pair, then column)."""
    out, rows = table.copy(), list(zip(table["model"], table["pair"]))
    for column in list(table.columns):
        found = [intervals.get(model, {}).get(pair, {}).get(column) for model, pair in rows]
        if any(f is not None for f in found):
            texts = [format_interval(f) if f is not None else "" for f in found]
            out.insert(out.columns.get_loc(column) + 1, f"{column} {LABEL}", texts)
    return out


@st.cache_data(max_entries=16, show_spinner=False)
def paired_table(source: Source, models: tuple[str, ...]) -> pd.DataFrame:
    """Per later model, pair and metric: its difference to the first model on the same items (the metrics sample of
    those every model embedded, compute.common_ids), the paired-bootstrap interval of that difference and whether
    it is outside it (the interval excludes 0); the store's rows where they were computed for this sample."""
    ids = sample_ids(compute.common_ids(source[0], models), source[3])
    base, rows = None, []
    for model in models[1:]:
        stored = loaders.stored_paired(source[1], source[2], source[0].dataset, model, models[0], tuple(ids))
        if stored is None:
            base = base or _terms(source, models[0], ids)
            stored = paired_rows(base, _terms(source, model, ids), model)
        rows += stored
    return pd.DataFrame(rows)
