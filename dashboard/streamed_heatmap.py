"""The aggregated heatmap of one model in an order fixed elsewhere (Compare: every model in the first model's PC 1
order), computed batch by batch from the store, so no model's embeddings are held to draw it.

A block mean of unit vectors is mean_{i in run} x_i (dashboard/figures/heatmap.py: the cells are dot products of
those means), so each modality's run means are sums over the rows of the table, accumulated in float64 as the
record batches come (READ_BATCH_ROWS rows, each normalised as the dashboard's loader does) and divided by the run
sizes: the peak is one batch plus runs x d sums. The sums run in the table's read order in float64 (np.add.at, no
BLAS) before rounding to float32, so the means do not depend on the thread count or the batch size beyond float64
rounding; they equal the in-memory block means to float32 rounding. The cells are then the small product of the
means, as in dashboard/figures/heatmap.py.

Streaming one model of 100,000 x 512 pairs still reads 400 MB and takes seconds, so `store_compared` (run by
dashboard.precompute for each model) stores Compare's whole-dataset heatmaps ahead: the model's block means in every
other model's PC 1 order, and every other model's in this one's (kind "heatmap", key "compared:<first model>", with
"compared-ids:<first model>" holding the count and SHA-256 of the rows' item ids). They are computed by
`streamed_heatmap` itself, so the stored figure is the live one; the dashboard uses one only when the ids it would
draw hash to the stored digest (the same items in the same order), else it streams.
"""
from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from dashboard.analysis.similarity import normalize
from dashboard.errors import GapscopeError
from dashboard.figures.heatmap import MAX_SIDE, HeatmapData, heatmap_from_matrix, heatmap_runs
from dashboard.store import Store, artifacts


def run_means(store: Store, dataset: str, model: str, modality: str, run_of: dict[str, int],
              runs: int) -> np.ndarray:
    """float32 mean of the normalised vectors of each run (`run_of`: item id -> run, items not in it skipped)."""
    _, batches = store.embedding_batches(dataset, model, modality)
    sums, sizes = None, np.zeros(runs, dtype=np.int64)
    for ids, values in batches:
        run = np.fromiter((run_of.get(i, -1) for i in ids), dtype=np.int64, count=len(ids))
        kept = run >= 0
        unit = normalize(np.array(values[kept]), f"{model} {modality}")
        sums = np.zeros((runs, values.shape[1])) if sums is None else sums
        np.add.at(sums, run[kept], unit.astype(np.float64))
        sizes += np.bincount(run[kept], minlength=runs)
    if sums is None or (sizes == 0).any():
        raise GapscopeError(f"heatmap of {model}: some of the {dataset!r} items to show are not embedded")
    return (sums / sizes[:, None]).astype(np.float32)


def streamed_heatmap(store: Store, dataset: str, model: str, ordered_ids: list[str], modalities: list[str],
                     ordering: str) -> HeatmapData:
    """The heatmap of `ordered_ids` (in that order, aggregated into heatmap_runs) of one model, from the store."""
    runs = heatmap_runs(len(ordered_ids), len(modalities))
    run_of = {ordered_ids[p]: r for r, (a, b) in enumerate(runs) for p in range(a, b)}
    stacked = np.concatenate([run_means(store, dataset, model, m, run_of, len(runs)) for m in modalities])
    heat = heatmap_from_matrix((stacked @ stacked.T).astype(np.float32), ordered_ids, modalities, ordering)
    if heat is None:
        raise GapscopeError(f"heatmap of {model}: {len(ordered_ids)} items give no heatmap layout")
    return heat


def ids_digest(item_ids: list[str]) -> dict:
    """What a stored compared heatmap was computed for: the count and SHA-256 of its rows' ids in order."""
    return {"n": len(item_ids), "sha256": hashlib.sha256("\n".join(item_ids).encode()).hexdigest()}


def compared_ordering(first: str) -> str:
    """The ordering named under a compared heatmap."""
    return f"ordered by PC 1 of {first}"


def compared_rows(store: Store, dataset: str, first: str, model: str) -> list[str] | None:
    """The items both models embedded in the stored PC 1 order of `first` (Compare's rows for the whole dataset), or
    None when that order is not stored or does not hold exactly the items of `first`."""
    ordered = store.get_frame(dataset, first, artifacts.HEATMAP, artifacts.heatmap_key("order"))
    if ordered is None or set(ordered["item_id"]) != set(store.paired_ids(dataset, first)):
        return None
    embedded = set(store.paired_ids(dataset, model))
    return [i for i in ordered["item_id"] if i in embedded]


def store_compared(store: Store, dataset: str, model: str) -> None:
    """Store Compare's aggregated heatmaps of `model` in every other model's PC 1 order, and theirs in its order."""
    modalities = store.dataset(dataset)["modalities"]
    coverage = store.coverage()
    others = sorted(set(coverage.loc[coverage["dataset"] == dataset, "model"]) - {model})
    for first, other in [(o, model) for o in others] + [(model, o) for o in others]:
        ids = compared_rows(store, dataset, first, other)
        if ids is None or len(ids) * len(modalities) <= MAX_SIDE:
            continue
        heat = streamed_heatmap(store, dataset, other, ids, modalities, compared_ordering(first))
        frame = pd.DataFrame(heat.matrix, columns=[str(c) for c in range(len(heat.matrix))])
        store.put_frame(dataset, other, artifacts.HEATMAP, artifacts.compared_key(first), frame)
        store.put_json(dataset, other, artifacts.HEATMAP, artifacts.compared_key(first, ids=True), ids_digest(ids))
