"""Bootstrap intervals of the view's metrics for the Gap and Compare pages (dashboard.intervals), cached.

The metrics table's intervals are those of the view's metrics object (compute.view_summary: the store's, or
compute_metrics' B = BOOTSTRAP_B resamples of the items the table uses, the seeded sample of at most
compute.METRICS_SAMPLE pairs of the view); Compare's paired bootstrap resamples the same items in both models.
Tables name their columns as dashboard.metrics_table does.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import metrics_table
from dashboard.intervals import DEFAULT_B, ItemTerms, every_pair_terms, paired_differences
from dashboard.ui import compute, loaders
from dashboard.ui.sidebar import View

BOOTSTRAP_B = DEFAULT_B
CONFIDENCE = 0.95
SEED = 0
LABEL = f"{CONFIDENCE:.0%} CI"
Source = tuple  # (view key, store path, store version, sample seed): what the cached functions read


def source_of(view: View) -> Source:
    """The view's key with the store, version and sample seed that the metrics table uses."""
    return view.key, view.store, view.version, int(view.subset["seed"])


def _terms(source: Source, model: str, ids: list[str]) -> ItemTerms:
    """Per-item terms of the model on the metrics sample of `ids` (in that order); only the sample's embeddings are
    read (loaders.some_pairs)."""
    key, store, version, seed = source
    ids = [ids[i] for i in compute.seeded_rows(len(ids), seed)]
    scale = float(loaders.model_record(store, version, model)["logit_scale"])
    return every_pair_terms(loaders.some_pairs(store, version, key.dataset, model, tuple(ids)).vectors, scale)


def pair_columns(tree: dict, a: str, b: str) -> dict:
    """The leaves of one pair's figures in a per-pair tree (paired_differences'), keyed by the table's column names."""
    pair, out = f"{a}_{b}", {"distance": tree["gap_distances"][f"{a}_{b}"]}
    out |= {name: tree[name][pair] for name in ("loss", "alignment", "relative_gap", "matched_cosine",
                                                 "unmatched_cosine") if pair in tree.get(name, {})}
    for x, y in ((a, b), (b, a)):
        out |= {f"R@{k} {x}→{y}": v for k, v in tree["recall_at_k"].get(f"{x}_to_{y}", {}).items()}
    out |= {f"uniformity {m}": tree["uniformity"][m] for m in (a, b)}
    return out


def pair_intervals(source: Source, model: str) -> dict[str, dict[str, list[float]]]:
    """{pair "a_b": {column: [lo, hi]}} for every modality pair of the view: the intervals of the view's metrics
    object (compute.view_summary, the same object the table's values come from)."""
    return metrics_table.pair_intervals(compute.view_summary(source[0], model))


def format_interval(interval: list[float]) -> str:
    """"[lo, hi]" with three decimals."""
    return f"[{interval[0]:.3f}, {interval[1]:.3f}]"


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
    """Per later model, pair and metric: its difference to the first model on the same items (those every model
    embedded, compute.common_ids), the paired-bootstrap interval of that difference and whether the difference is
    outside it (the interval excludes 0)."""
    ids = compute.common_ids(source[0], models)
    base, rows = _terms(source, models[0], ids), []
    for model in models[1:]:
        verdicts = paired_differences(base, _terms(source, model, ids), BOOTSTRAP_B, CONFIDENCE, SEED)
        for a, b in base.pairs:
            for column, verdict in pair_columns(verdicts, a, b).items():
                rows.append({"model": model, "pair": f"{a}_{b}", "metric": column,
                             "difference": verdict["difference"], LABEL: format_interval(verdict["interval"]),
                             "significant": verdict["significant"]})
    return pd.DataFrame(rows)
