"""Per-pair figures of one model: each item's pair similarity and retrieval rank in both directions.

For L2-normalised embeddings a_i (modality A) and b_i (modality B) of item i:
  similarity_i      = cos(a_i, b_i)
  rank_A_to_B (i)   = 1 + #{j != i : cos(a_i, b_j) > cos(a_i, b_i) + tolerance}   (1 = own B retrieved first)
  rank_B_to_A (i)   = 1 + #{j != i : cos(a_j, b_i) > cos(a_i, b_i) + tolerance}
by the one ranking of dashboard.analysis.ranking (exact, ties optimistic, the ranks `gapscope metrics` counts),
block by block so that memory stays O(block x N) at any N (Radford et al. 2021's retrieval recall@k is the share
of items with rank <= k). Precompute stores them (artefact "pairs"); they are used while the items
they cover are still exactly the items with every modality, else computed again.
"""
from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd

from dashboard.analysis.pairwise import scan
from dashboard.analysis.ranking import pair_similarities
from dashboard.store import Store, artifacts
from dashboard.store.store import Paired



def pair_ranks(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pair similarities and ranks A->B and B->A of paired rows of `a` and `b`."""
    result = scan(a, b, 1.0, lse=False)
    return result.diagonal, result.row_rank, result.col_rank


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
        if set(stored["item_id"].to_numpy(dtype=object)) == set.intersection(*(embedded.get(m, set())
                                                                                for m in modalities)):
            return stored[pair_columns(modalities)]
    return figures_of(store.pairs(dataset, model, modalities), model, modalities)


def figures_of(paired: Paired, model: str, modalities: list[str],
               ranks: dict[str, np.ndarray] | None = None) -> pd.DataFrame:
    """The pairs-view rows of paired embeddings of one model; `ranks` by direction "a_to_b" (those of
    `gapscope metrics` on the same vectors, the same ranking) are used instead of a second pass where given."""
    frame, ranks = pd.DataFrame({"item_id": paired.item_ids, "model": model}), ranks or {}
    for k, (a, b) in enumerate(combinations(modalities, 2)):
        if f"{a}_to_{b}" in ranks and f"{b}_to_{a}" in ranks:
            similarity = pair_similarities(paired.vectors[a], paired.vectors[b])
            rank_ab, rank_ba = ranks[f"{a}_to_{b}"], ranks[f"{b}_to_{a}"]
        else:
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
