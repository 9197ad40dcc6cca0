"""The whole dataset's heatmap and pair cosines, stored so that the dashboard draws every item without holding any
embedding.

Explore's view of a whole dataset is the block-mean heatmap of its items in PC 1 order (dashboard/figures/heatmap.py,
dashboard/analysis/ordering.py) beside the stored PCA scatter, its pair lines coloured by pair cosine. Computed
live, both need every embedding in memory (400 MB per model at 100,000 x 512 x 2 in float32) and seconds of work
on a first load. Both depend only on the normalised embeddings, so `store_views` (run by dashboard.precompute)
stores them for the embeddings as they are ("gap") and with the gap closed ("closed"), kind "heatmap":

    key "order:<variant>"   Parquet: item_id (in PC 1 order), pair_cosine (first two modalities' cosine; NaN for one)
    key "matrix:<variant>"  Parquet: the block-mean matrix, one float32 column per heatmap row

only when the heatmap is aggregated (more than MAX_SIDE rows; an exact one is small and computed live). They are
computed by the dashboard's own functions on the arrays its loader reads (`normalised_pairs`), so a stored view
equals the live one bit for bit on one machine. The dashboard uses them only when the view is the whole dataset and
the stored order holds exactly its items (dashboard/ui/compute.py); zooming reads the embeddings, in the stored order.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from dashboard.analysis.closing import close_gaps
from dashboard.analysis.ordering import principal_order
from dashboard.analysis.similarity import normalize
from dashboard.figures.heatmap import MAX_SIDE, HeatmapData, heatmap_from_matrix, similarity_blocks
from dashboard.store import Store, artifacts
from dashboard.store.store import Paired

ORDERING = "ordered by PC 1"


def normalised_pairs(store: Store, dataset: str, model: str) -> Paired:
    """All paired embeddings of (dataset, model), L2-normalised row by row as they are read (the dashboard's arrays)."""
    return store.pairs(dataset, model, transform=lambda v, m: normalize(v, f"{model} {m}"))


def pair_cosine(blocks: dict[str, np.ndarray]) -> np.ndarray:
    """Each item's cosine between its first two modalities (unit rows: the dot product)."""
    first, second = list(blocks.values())[:2]
    return np.einsum("ij,ij->i", first, second)


def view_frames(item_ids: list[str], blocks: dict[str, np.ndarray]) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """(PC 1 order with pair cosines, block-mean matrix) of all items; None when the heatmap would be exact."""
    if len(item_ids) * len(blocks) <= MAX_SIDE:
        return None
    order = principal_order(list(blocks.values()))
    heat = similarity_blocks(blocks, item_ids, order, ordering=ORDERING)
    cosine = pair_cosine(blocks)[order] if len(blocks) > 1 else np.full(len(order), np.nan)
    ordered = pd.DataFrame({"item_id": [item_ids[i] for i in order], "pair_cosine": cosine})
    return ordered, pd.DataFrame(heat.matrix, columns=[str(c) for c in range(len(heat.matrix))])


def store_views(store: Store, dataset: str, model: str) -> None:
    """Compute and store the gap and closed views of (dataset, model) when its heatmap is aggregated."""
    paired = normalised_pairs(store, dataset, model)
    for closed in (False, True):
        blocks = close_gaps(paired.vectors, 1.0) if closed and len(paired.vectors) > 1 else paired.vectors
        frames = view_frames(paired.item_ids, blocks)
        if frames is None:
            return
        for part, frame in zip(("order", "matrix"), frames):
            store.put_frame(dataset, model, artifacts.HEATMAP, artifacts.heatmap_key(part, closed), frame)


def heatmap_of(ordered: pd.DataFrame, matrix: pd.DataFrame, modalities: list[str]) -> HeatmapData | None:
    """The stored heatmap (None when its layout is not this version's: computed live then)."""
    return heatmap_from_matrix(matrix.to_numpy(dtype=np.float32), ordered["item_id"].tolist(), modalities, ORDERING)
