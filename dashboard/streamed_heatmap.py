"""The aggregated heatmap of one model in an order fixed elsewhere (Compare: every model in the first model's PC 1
order), computed batch by batch from the store, so no model's embeddings are held to draw it.

A block mean of unit vectors is mean_{i in run} x_i (dashboard/figures/heatmap.py: the cells are dot products of
those means), so each modality's run means are sums over the rows of the table, accumulated in float64 as the
record batches come (READ_BATCH_ROWS rows, each normalised as the dashboard's loader does) and divided by the run
sizes: the peak is one batch plus runs x d sums. The sums run in the table's read order in float64 (np.add.at, no
BLAS) before rounding to float32, so the means do not depend on the thread count or the batch size beyond float64
rounding; they equal the in-memory block means to float32 rounding. The cells are then the small product of the
means, as in dashboard/figures/heatmap.py.
"""
from __future__ import annotations

import numpy as np

from dashboard.analysis.similarity import normalize
from dashboard.errors import GapscopeError
from dashboard.figures.heatmap import HeatmapData, heatmap_from_matrix, heatmap_runs
from dashboard.store import Store


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
