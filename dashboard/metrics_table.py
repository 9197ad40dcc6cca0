"""The Gap and Compare pages' metrics table, read from the metrics object of dashboard.metrics.compute_metrics.

One metrics assembly: the table is not computed on its own, it lays out the object `gapscope metrics` prints (the
store's "metrics"/"summary" artefact, or compute_metrics run on the items in view). Its "ci" tree mirrors the object
(dashboard.intervals.metrics_mirror), so the same function turns the object into values and its "ci" into the
intervals beside them. Per modality pair "a_b": gap distance, Recall@K both ways and the uniformity of both
modalities; the loss (and SigLIP's sigmoid loss for a model with a logit bias), alignment, relative gap and
matched/unmatched cosines, from the object's top level for the first pair and from "other_pairs" for the others
(whose intervals the bootstrap does not give: their CI cells stay empty).
"""
from __future__ import annotations

from itertools import combinations

import pandas as pd

from dashboard.errors import GapscopeError

FIRST_PAIR = ("loss", "sigmoid_loss", "alignment", "relative_gap", "matched_cosine", "unmatched_cosine")


def pair_columns(tree: dict, a: str, b: str, first: bool) -> dict:
    """The columns of pair (a, b) read from a metrics object or its "ci" tree (first = the object's first pair)."""
    pair = f"{a}_{b}"
    if pair not in tree.get("gap_distances", {}):
        raise GapscopeError(f"metrics table: the metrics object has no gap distance for pair {pair!r}")
    out = {"distance": tree["gap_distances"][pair]}
    scalars = tree if first else tree.get("other_pairs", {}).get(pair, {})
    out |= {name: scalars[name] for name in FIRST_PAIR if scalars.get(name) is not None}
    for x, y in ((a, b), (b, a)):
        out |= {f"R@{k} {x}→{y}": v for k, v in tree.get("recall_at_k", {}).get(f"{x}_to_{y}", {}).items()}
    out |= {f"uniformity {m}": tree["uniformity"][m] for m in (a, b) if m in tree.get("uniformity", {})}
    return out


def pair_rows(summary: dict, model: str) -> pd.DataFrame:
    """One row per modality pair of a metrics object: model, pair, n, then pair_columns."""
    modalities = summary["modalities"]
    return pd.DataFrame([{"model": model, "pair": f"{a}_{b}", "n": int(summary["n"]),
                          **pair_columns(summary, a, b, (a, b) == tuple(modalities[:2]))}
                         for a, b in combinations(modalities, 2)])


def pair_intervals(summary: dict) -> dict[str, dict[str, list[float]]]:
    """{pair "a_b": {column: [lo, hi]}} from the metrics object's "ci" tree (empty without intervals)."""
    ci, modalities = summary.get("ci"), summary["modalities"]
    if not ci:
        return {}
    return {f"{a}_{b}": pair_columns(ci, a, b, (a, b) == tuple(modalities[:2])) for a, b in combinations(modalities, 2)}
