"""Per-pair figures of one model: each item's pair similarity and retrieval rank in both directions.

For L2-normalised embeddings a_i (modality A) and b_i (modality B) of item i:
  similarity_i      = cos(a_i, b_i)
  rank_A_to_B (i)   = 1 + #{j : cos(a_i, b_j) > cos(a_i, b_i)}   (1 = the item's own B is retrieved first)
  rank_B_to_A (i)   = 1 + #{j : cos(a_j, b_i) > cos(a_i, b_i)}
computed block by block so that memory stays O(block x N) at any N (Radford et al. 2021's retrieval recall@k
is the share of items with rank <= k). Precompute stores them (artefact "pairs"); they are used while the items
they cover are still exactly the items with every modality, else computed again.
"""
from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd

from dashboard.store import Store, artifacts
from dashboard.store.store import Paired

BLOCK_BYTES = 32 * 1024 * 1024


def normalised(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (float32)."""
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1, norms)


def pair_ranks(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pair similarities and ranks A->B and B->A of paired rows of `a` and `b`."""
    a, b = normalised(a), normalised(b)
    n = len(a)
    diag = np.einsum("ij,ij->i", a, b)
    rank_ab = np.ones(n, dtype=np.int64)
    above_ba = np.zeros(n, dtype=np.int64)
    block = max(1, BLOCK_BYTES // max(1, 4 * n))
    for start in range(0, n, block):
        stop = min(n, start + block)
        sims = a[start:stop] @ b.T
        rows = np.arange(stop - start)
        sims[rows, start + rows] = diag[start:stop]  # a pair never outranks itself through rounding
        rank_ab[start:stop] += (sims > diag[start:stop, None]).sum(axis=1)
        above_ba += (sims > diag[None, :]).sum(axis=0)
    return diag.astype(np.float64), rank_ab, above_ba + 1


def pair_columns(modalities: list[str]) -> list[str]:
    """Column names of the pairs view for a dataset's modalities."""
    columns = ["item_id", "model"]
    for k, (a, b) in enumerate(combinations(modalities, 2)):
        columns.append("similarity" if k == 0 else f"similarity_{a}_{b}")
        columns += [f"rank_{a}_to_{b}", f"rank_{b}_to_{a}"]
    return columns


def model_figures(store: Store, dataset: str, model: str, modalities: list[str]) -> pd.DataFrame:
    """The pairs-view rows of one model: items that have every modality, with the figures of each modality pair
    (the stored artefact while it covers exactly those items)."""
    stored = store.get_frame(dataset, model, artifacts.PAIR_FIGURES, artifacts.pair_figures_key(modalities))
    if stored is not None:
        embedded = store.embedded_ids(dataset, model)
        if set(stored["item_id"]) == set.intersection(*(embedded.get(m, set()) for m in modalities)):
            return stored[pair_columns(modalities)]
    return figures_of(store.pairs(dataset, model, modalities), model, modalities)


def figures_of(paired: Paired, model: str, modalities: list[str]) -> pd.DataFrame:
    """The pairs-view rows of paired embeddings of one model."""
    frame = pd.DataFrame({"item_id": paired.item_ids, "model": model})
    for k, (a, b) in enumerate(combinations(modalities, 2)):
        similarity, rank_ab, rank_ba = pair_ranks(paired.vectors[a], paired.vectors[b])
        frame["similarity" if k == 0 else f"similarity_{a}_{b}"] = similarity
        frame[f"rank_{a}_to_{b}"] = rank_ab
        frame[f"rank_{b}_to_{a}"] = rank_ba
    return frame[pair_columns(modalities)]


def all_figures(store: Store, dataset: str, models: dict[str, list[str]], modalities: list[str]) -> pd.DataFrame:
    """The pairs view: one row per (item, model) for every model that embedded at least two of the modalities."""
    frames = []
    for model, embedded in models.items():
        usable = [m for m in modalities if m in embedded]
        if len(usable) >= 2:
            frame = model_figures(store, dataset, model, usable)
            frames.append(frame.reindex(columns=pair_columns(modalities)))
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in pair_columns(modalities)}).astype(
            {"item_id": "string", "model": "string"})
    return pd.concat(frames, ignore_index=True)
