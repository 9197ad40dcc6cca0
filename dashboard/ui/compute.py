"""Cached calls into the analyses for the subset in view (keyed by View.key, the model and the options).

Results that grow with N (embeddings, points, heatmaps, pair cosines, orders) are held with st.cache_resource:
one shared object per key, never copied or unpickled per rerun (st.cache_data would, which costs seconds and
gigabytes at 100k pairs); callers only derive new objects from them and never modify them.

Slow work is bounded: UMAP and t-SNE come from the store's projection artefacts when present, otherwise they
run only when asked (a button) on at most MAX_EMBED_PAIRS pairs; clustering beyond the analysis module's linkage
limit uses its k-means pre-clustering. Everything else is O(N d), computed once per view and read from the cache on
a rerun. The embeddings of the whole dataset are the loader's normalised arrays themselves (no copy per view), and
they are read only when something needs them: item ids come without them (`item_ids`), and for the whole dataset
the heatmap in PC 1 order, the pair cosines and the PCA scatter come from the store's artefacts
(dashboard/stored_heatmap.py), so Explore draws 100,000 pairs without holding 400 MB of embeddings per model.
The metrics of the view are one object, `view_summary` (dashboard.metrics.compute_metrics, or the store's summary
artefact of it): the metrics table, its intervals and the gap analysis are all read from it. What is computed on a
seeded sample (metrics, landscape, the gap analysis at other options) reads only the sample's embeddings, by key
(`sample`), so Gap and Compare never read a whole model to use 2,000 of its pairs.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import metrics_table
from dashboard.analysis import clustering, evaluation, projection
from dashboard.analysis.closing import close_gaps
from dashboard.analysis.ordering import principal_order
from dashboard.errors import GapscopeError
from dashboard.figures.heatmap import MAX_SIDE, HeatmapData, heatmap_from_matrix, similarity_blocks
from dashboard.paired_bootstrap import METRICS_SAMPLE
from dashboard.store import artifacts
from dashboard.stored_heatmap import ORDERING, heatmap_of, pair_cosine
from dashboard.streamed_heatmap import compared_ordering, ids_digest, streamed_heatmap
from dashboard.ui import loaders
from dashboard.ui.state import ViewKey

MAX_EMBED_PAIRS = 2000
MAX_PCA_COMPONENTS = 10
LANDSCAPE_PAIRS = 500


def view_ids(key: ViewKey) -> list[str]:
    """Item ids of a view key."""
    return loaders.subset(key.store, key.version, key.dataset, key.sql, key.q, key.n, key.seed)


@st.cache_resource(max_entries=16, show_spinner=False)
def item_ids(key: ViewKey, model: str) -> list[str]:
    """The view's items the model embedded in every modality, in the order of compute.vectors, read without the
    vectors (the same error as vectors when it embedded none of them)."""
    full, ids = loaders.paired_ids(key.store, key.version, key.dataset, model), view_ids(key)
    if ids == full:
        return full
    embedded = set(full)
    kept = [i for i in ids if i in embedded]
    if not kept:
        raise GapscopeError(f"model {model!r}: none of the {len(ids)} selected items of {key.dataset!r} are embedded")
    return kept


def whole(key: ViewKey, model: str) -> bool:
    """Whether the view holds every item the model embedded (the store's whole-dataset artefacts apply)."""
    return len(item_ids(key, model)) == len(loaders.paired_ids(key.store, key.version, key.dataset, model))


def modality_count(key: ViewKey) -> int:
    """Number of modality blocks of the view's embeddings."""
    return len(loaders.modalities(key.store, key.version, key.dataset))


CLOSED_COPIES = 2


def vectors(key: ViewKey, model: str, closed: float = 0.0) -> tuple[list[str], dict[str, np.ndarray]]:
    """Item ids and normalised embeddings per modality of the view, the fraction `closed` of the gap closed
    (closing.close_gaps: 0 or False leaves them as they are, 1 or True is Amumo's closing)."""
    if not closed:
        return _vectors(key, model)
    return _closed_vectors(key, model, float(closed))


@st.cache_resource(max_entries=16, show_spinner=False)
def _vectors(key: ViewKey, model: str) -> tuple[list[str], dict[str, np.ndarray]]:
    """The view's normalised embeddings as read (the loader's arrays, no copy)."""
    pairs = loaders.subset_pairs(key.store, key.version, key.dataset, model, view_ids(key))
    return pairs.item_ids, pairs.vectors


@st.cache_resource(max_entries=CLOSED_COPIES, show_spinner=False)
def _closed_vectors(key: ViewKey, model: str, closed: float) -> tuple[list[str], dict[str, np.ndarray]]:
    """A closed copy of the view's embeddings; only the last CLOSED_COPIES are kept (each is as large as the
    embeddings, 400 MB at 100k x 512 x 2, and what is derived from one is cached by itself), so moving the
    closing slider does not pile up copies."""
    ids, blocks = _vectors(key, model)
    return ids, close_gaps(blocks, closed) if len(blocks) > 1 else blocks


@st.cache_resource(max_entries=16, show_spinner=False)
def stored_view(key: ViewKey, model: str, closed: float = 0.0) -> pd.DataFrame | None:
    """The store's PC 1 order and pair cosines of the whole dataset (dashboard.stored_heatmap) when the view is the
    whole dataset, the gap as it is or fully closed, and the order holds exactly its items; else None."""
    if closed not in (0, 1) or not whole(key, model):
        return None
    frame = loaders.artifact_frame(key.store, key.version, key.dataset, model, artifacts.HEATMAP,
                                   artifacts.heatmap_key("order", bool(closed)))
    ids = item_ids(key, model)
    if frame is None or len(frame) != len(ids) or set(frame["item_id"].tolist()) != set(ids):
        return None
    return frame


@st.cache_resource(max_entries=32, show_spinner=False)
def pair_cosines(key: ViewKey, model: str, closed: float = 0.0) -> pd.Series:
    """Cosine of each item's first two modalities in the full space, indexed by item id (the stored ones when the
    view is the whole dataset)."""
    if modality_count(key) < 2:
        raise GapscopeError(f"dataset {key.dataset!r}: has one modality; pairs need two")
    stored = stored_view(key, model, closed)
    if stored is not None:
        cosine = pd.Series(stored["pair_cosine"].to_numpy(), index=stored["item_id"].to_numpy(), name="pair_cosine")
        return cosine.reindex(item_ids(key, model))
    ids, blocks = vectors(key, model, closed)
    return pd.Series(pair_cosine(blocks), index=ids, name="pair_cosine")


@st.cache_data(max_entries=32, show_spinner=False)
def clusters(key: ViewKey, model: str, k: int, block: str, closed: float = 0.0) -> tuple[np.ndarray, list[str]]:
    """Amumo's clusters (complete linkage on the rows of one modality block) of the view's items and their
    n-gram labels; labels come from the store's clusters artefact when it covers every item."""
    ids, blocks = vectors(key, model, closed)
    stored = loaders.artifact_frame(key.store, key.version, key.dataset, model, artifacts.CLUSTERS,
                                    artifacts.clusters_key("amumo", k, block))
    if stored is not None and not closed and set(ids) <= set(stored["item_id"]):
        labels = stored.set_index("item_id").loc[ids, "cluster"].to_numpy()
    else:
        rows, columns = clustering.block_modalities(block, list(blocks))
        labels = clustering.amumo_clusters_from_embeddings(blocks[rows], blocks[columns], k)
    texts = loaders.items(key.store, key.version, key.dataset).set_index("item_id").loc[ids, "text"].fillna("").tolist()
    return np.asarray(labels), clustering.ngram_labels(texts, labels)


@st.cache_resource(max_entries=32, show_spinner=False)
def heatmap(key: ViewKey, model: str, closed: float, order: np.ndarray | tuple[int, ...] | None,
            window: tuple[int, int] | None, ordering: str = "given order") -> HeatmapData:
    """The similarity heatmap of the view: exact up to MAX_SIDE rows, else block means of the items in `order`
    (named `ordering`; an int array hashes as bytes, a long tuple element by element), by default ordered by their
    first principal component (dashboard/analysis/ordering.py); the stored heatmap when it is the whole dataset's
    in PC 1 order (the embeddings are read only to zoom, or for another view)."""
    stored = _stored_heatmap(key, model, closed)
    pc1 = None if stored is None else stored_positions(key, model, closed)
    if stored is not None and window is None and (order is None or np.array_equal(order, pc1)):
        return stored if order is None else replace(stored, ordering=ordering)
    ids, blocks = vectors(key, model, closed)
    ordering = ordering if order is not None else "item order"
    if order is None and len(ids) * len(blocks) > MAX_SIDE:
        order, ordering = (pc1 if pc1 is not None else principal_order(list(blocks.values()))), ORDERING
    return similarity_blocks(blocks, ids, None if order is None else np.asarray(order), window, ordering=ordering)


@st.cache_resource(max_entries=32, show_spinner=False)
def items_heatmap(key: ViewKey, model: str, ids: tuple[str, ...]) -> HeatmapData:
    """The heatmap of some items of the dataset in the given order (a sweep's steps; those the model embedded),
    their embeddings read by key: the cost of the items, not of the dataset."""
    pairs = loaders.some_pairs(key.store, key.version, key.dataset, model, ids)  # in the order of `ids`
    return similarity_blocks(pairs.vectors, pairs.item_ids, ordering="given order")


def _stored_heatmap(key: ViewKey, model: str, closed: float) -> HeatmapData | None:
    """The store's heatmap of the whole dataset in PC 1 order (None when the view has none)."""
    ordered = stored_view(key, model, closed)
    if ordered is None:
        return None
    matrix = loaders.artifact_frame(key.store, key.version, key.dataset, model, artifacts.HEATMAP,
                                    artifacts.heatmap_key("matrix", bool(closed)))
    return None if matrix is None else heatmap_of(ordered, matrix, loaders.modalities(key.store, key.version,
                                                                                      key.dataset))


@st.cache_resource(max_entries=16, show_spinner=False)
def stored_positions(key: ViewKey, model: str, closed: float = 0.0) -> np.ndarray | None:
    """The stored PC 1 order as positions in compute.vectors (None when the view has none)."""
    ordered = stored_view(key, model, closed)
    return None if ordered is None else positions(key, model).get_indexer(ordered["item_id"]).astype(np.int64)


@st.cache_resource(max_entries=16, show_spinner=False)
def positions(key: ViewKey, model: str) -> pd.Index:
    """The model's item ids of the view as an index (an item's position = its row in compute.vectors)."""
    return pd.Index(item_ids(key, model))


@st.cache_resource(max_entries=16, show_spinner=False)
def common_ids(key: ViewKey, models: tuple[str, ...]) -> list[str]:
    """Items in view that every one of `models` embedded, in view order."""
    common = set.intersection(*(set(item_ids(key, m)) for m in models))
    return [i for i in view_ids(key) if i in common]


@st.cache_resource(max_entries=16, show_spinner=False)
def compared_heatmap(key: ViewKey, model: str, models: tuple[str, ...]) -> HeatmapData:
    """The heatmap of the items every compared model embedded, the same rows in every model: item by item, or block
    means in the PC 1 order of the first model (the others' stored at precompute for the whole dataset, else streamed
    from the store: dashboard/streamed_heatmap.py)."""
    ids, ordering = common_ids(key, models), "given order"
    if len(ids) * modality_count(key) > MAX_SIDE:
        common = set(ids)
        ids, ordering = [i for i in principal_ids(key, models[0]) if i in common], compared_ordering(models[0])
        if model != models[0]:  # stored, or block means read batch by batch: this model's embeddings are not held
            stored = stored_compared(key, model, models[0], ids)
            return stored if stored is not None else streamed_heatmap(
                loaders.open_store(key.store, key.version), key.dataset, model, ids,
                loaders.modalities(key.store, key.version, key.dataset), ordering)
    return heatmap(key, model, False, positions(key, model).get_indexer(ids), None, ordering)


def stored_compared(key: ViewKey, model: str, first: str, ids: list[str]) -> HeatmapData | None:
    """The store's heatmap of `model` in the PC 1 order of `first` when it was computed for exactly these rows."""
    if loaders.artifact_json(key.store, key.version, key.dataset, model, artifacts.HEATMAP,
                             artifacts.compared_key(first, ids=True)) != ids_digest(ids):
        return None
    matrix = loaders.artifact_frame(key.store, key.version, key.dataset, model, artifacts.HEATMAP,
                                    artifacts.compared_key(first))
    return None if matrix is None else heatmap_from_matrix(
        matrix.to_numpy(dtype=np.float32), ids, loaders.modalities(key.store, key.version, key.dataset),
        compared_ordering(first))


@st.cache_resource(max_entries=16, show_spinner=False)
def disagreement(key: ViewKey, models: tuple[str, ...]) -> pd.DataFrame:
    """Per item every model embedded: each model's pair cosine, the spread of its percentiles within each model
    (largest minus smallest) and the caption, most disagreeing first."""
    ids = common_ids(key, models)
    frame = pd.DataFrame({m: pair_cosines(key, m).reindex(ids) for m in models})
    ranks = frame.rank(pct=True)
    texts = loaders.items(key.store, key.version, key.dataset).set_index("item_id")["text"]
    out = frame.add_prefix("cosine ").assign(spread=ranks.max(axis=1) - ranks.min(axis=1),
                                             text=texts.reindex(ids).to_numpy())
    return out.rename_axis("item_id").reset_index().sort_values("spread", ascending=False)


@st.cache_resource(max_entries=16, show_spinner=False)
def principal_ids(key: ViewKey, model: str) -> list[str]:
    """The view's item ids sorted by their first principal component (dashboard/analysis/ordering.py; stored for
    the whole dataset)."""
    stored = stored_view(key, model)
    if stored is not None:
        return stored["item_id"].tolist()
    ids, blocks = vectors(key, model)
    return [ids[i] for i in principal_order(list(blocks.values()))]


@st.cache_resource(max_entries=32, show_spinner=False)
def pca_points(key: ViewKey, model: str, closed: float, cx: int, cy: int) -> pd.DataFrame:
    """PCA of [A; B; ...] (fitted on all modalities together, as Amumo), components cx and cy (1-based); the
    store's PCA artefact when the view is the whole dataset and the components are the first two."""
    if (cx, cy) == (1, 2) and whole(key, model):
        stored = stored_points(key, model, "pca", closed)
        if stored is not None and len(stored) == len(item_ids(key, model)) * modality_count(key):
            return stored
    ids, blocks = vectors(key, model, closed)
    from sklearn.decomposition import PCA

    z = np.concatenate(list(blocks.values()))
    wanted = min(max(cx, cy), z.shape[1], len(z))
    coords = PCA(n_components=wanted).fit_transform(z)
    if max(cx, cy) > wanted:
        raise GapscopeError(f"PCA: component {max(cx, cy)} asked, only {wanted} available")
    return _frame(ids, list(blocks), coords[:, [cx - 1, cy - 1]])


def _frame(ids: list[str], modalities: list[str], coords: np.ndarray) -> pd.DataFrame:
    """Points frame item_id, modality, x, y from stacked per-modality coordinates."""
    return pd.DataFrame({"item_id": ids * len(modalities), "modality": np.repeat(modalities, len(ids)),
                         "x": coords[:, 0], "y": coords[:, 1]})


@st.cache_resource(max_entries=32, show_spinner=False)
def stored_points(key: ViewKey, model: str, method: str, closed: float) -> pd.DataFrame | None:
    """A projection artefact restricted to the view (None when the store has none covering the view; the store
    holds the gap as it is and fully closed only)."""
    if closed not in (0, 1):
        return None
    frame = loaders.artifact_frame(key.store, key.version, key.dataset, model, artifacts.PROJECTION,
                                   artifacts.projection_key(method, bool(closed)))
    if frame is None:
        return None
    ids = view_ids(key)
    if len(ids) * frame["modality"].nunique() != len(frame) or frame["item_id"].iloc[:len(ids)].tolist() != ids:
        frame = frame[frame["item_id"].isin(set(ids))]
    return frame[["item_id", "modality", "x", "y"]].reset_index(drop=True) if len(frame) else None


@st.cache_data(max_entries=16, show_spinner=False)
def computed_points(key: ViewKey, model: str, method: str, closed: float, seed: int) -> pd.DataFrame:
    """UMAP, t-SNE or out-of-sample UMAP of at most MAX_EMBED_PAIRS pairs of the view (seeded subsample)."""
    ids, blocks = vectors(key, model, closed)
    keep = np.arange(len(ids))
    if len(ids) > MAX_EMBED_PAIRS:
        keep = np.sort(np.random.default_rng(seed).choice(len(ids), MAX_EMBED_PAIRS, replace=False))
    ids = [ids[i] for i in keep]
    parts = [b[keep] for b in blocks.values()]
    if method == "umap_oos":
        coords = projection.project_out_of_sample(parts[0], parts[1:])
    else:
        coords = projection.project_modalities(parts, method)
    return _frame(ids, list(blocks), np.concatenate(coords))


def with_text(points: pd.DataFrame, key: ViewKey) -> pd.DataFrame:
    """Points with each item's caption (for hover text)."""
    texts = loaders.items(key.store, key.version, key.dataset).set_index("item_id")["text"]
    return points.assign(text=points["item_id"].map(texts))



@st.cache_data(max_entries=64, show_spinner=False)
def metrics_summary(path: str, version: float, dataset: str, model: str) -> dict:
    """The store's metrics artefact of (dataset, model), else compute_metrics on at most METRICS_SAMPLE pairs."""
    from dashboard.intervals import DEFAULT_B
    from dashboard.metrics import compute_metrics, logit_bias_of

    stored = loaders.artifact_json(path, version, dataset, model, artifacts.METRICS, "summary")
    if stored is not None:
        return {**stored, "source": "store"}
    key = ViewKey.whole(path, version, dataset)
    ids, blocks = sample(key, model)
    texts = loaders.items(path, version, dataset).set_index("item_id")["text"].reindex(ids)
    record = loaders.model_record(path, version, model)
    result = compute_metrics(blocks, list(blocks), float(record["logit_scale"]),
                             None if texts.isna().all() else texts.fillna("").tolist(), clusters=min(10, len(ids)),
                             logit_bias=logit_bias_of(record), bootstrap=DEFAULT_B)
    whole_dataset = len(ids) == len(item_ids(key, model))
    return {**result, "source": "computed" if whole_dataset else f"computed on {len(ids)} sampled pairs"}


@st.cache_data(max_entries=32, show_spinner=False)
def landscape(key: ViewKey, model: str, first: str, second: str) -> dict:
    """The loss landscape of a modality pair: the store's artefact (whole dataset) when the view is the whole
    dataset, else computed on the view (a seeded sample of at most LANDSCAPE_PAIRS pairs: 40 shifts of the loss)."""
    from dashboard.analysis.landscape import loss_landscape

    stored = loaders.artifact_json(key.store, key.version, key.dataset, model, artifacts.LANDSCAPE, f"{first}_{second}")
    if stored is not None and whole(key, model):
        return {**stored, "source": "store"}
    ids, blocks = sample(key, model, LANDSCAPE_PAIRS)
    scale = float(loaders.model_record(key.store, key.version, model)["logit_scale"])
    result = loss_landscape(blocks[first], blocks[second], scale)
    return {**result, "source": f"computed on {len(ids)} pairs in view"}


def seeded_rows(n: int, seed: int, size: int | None = None) -> np.ndarray:
    """Rows of a seeded sample of at most `size` (METRICS_SAMPLE) of n pairs (all rows when fewer), in order."""
    return evaluation.seeded_rows(n, seed, METRICS_SAMPLE if size is None else size)


@st.cache_resource(max_entries=16, show_spinner=False)
def sample(key: ViewKey, model: str, size: int | None = None) -> tuple[list[str], dict[str, np.ndarray]]:
    """Item ids and normalised embeddings of the view's seeded sample of at most `size` (METRICS_SAMPLE) pairs
    (rows seeded_rows(n, key.seed, size) of compute.vectors), read by key: the cost of the sample, not the dataset."""
    ids = item_ids(key, model)
    pairs = loaders.some_pairs(key.store, key.version, key.dataset, model,
                               tuple(ids[i] for i in seeded_rows(len(ids), key.seed, size)))
    return pairs.item_ids, pairs.vectors


@st.cache_resource(max_entries=32, show_spinner=False)
def view_summary(key: ViewKey, model: str) -> dict:
    """The metrics object of the view (dashboard.metrics.compute_metrics with DEFAULT_B bootstrap intervals, the
    gap analysis included) under "source": the store's artefact when the view is the whole dataset, else computed
    on the view's seeded sample of at most METRICS_SAMPLE pairs. Shared, never modified by callers."""
    from dashboard.intervals import DEFAULT_B
    from dashboard.metrics import compute_metrics, logit_bias_of

    stored = loaders.artifact_json(key.store, key.version, key.dataset, model, artifacts.METRICS, "summary")
    if stored is not None and stored.get("n") == len(item_ids(key, model)) and whole(key, model):
        return {**stored, "source": "store"}
    ids, blocks = sample(key, model)
    texts = loaders.items(key.store, key.version, key.dataset).set_index("item_id")["text"].reindex(ids)
    record = loaders.model_record(key.store, key.version, model)
    result = compute_metrics(blocks, list(blocks), float(record["logit_scale"]),
                             None if texts.isna().all() else texts.fillna("").astype(str).tolist(),
                             clusters=min(10, len(ids)), logit_bias=logit_bias_of(record), bootstrap=DEFAULT_B)
    return {**result, "source": f"computed on {len(ids)} pairs in view"}


def pair_metrics(key: ViewKey, model: str) -> pd.DataFrame:
    """Every metric for every modality pair of the view, laid out from its metrics object (view_summary, column n
    says on how many pairs; dashboard/metrics_table.py)."""
    return metrics_table.pair_rows(view_summary(key, model), model)
