"""Compute once and store the slow artefacts the dashboard reads (names in dashboard/store/artifacts.py).

For one (dataset, model): the metrics summary (defaults of `gapscope metrics`, with the bootstrap intervals of
`--bootstrap 200`), the projections PCA, UMAP, t-SNE,
UMAP out-of-sample and PCA of the pair vectors for the embeddings as they are ("gap") and with the gap closed
("closed") with how faithful each is (metrics key "faithfulness": pair neighbourhood preservation of the first two
modalities and trustworthiness, per projection key), Amumo's and the default clustering with k = 10, the loss
landscape of the first modality pair, the per-pair similarities and ranks of the SQL `pairs` view, the whole
dataset's heatmap in PC 1 order with its pair cosines (dashboard.stored_heatmap), Compare's heatmaps of the model
in every other model's PC 1 order and theirs in its order (dashboard.streamed_heatmap), its paired-bootstrap rows
against every other model and theirs against it (dashboard.paired_bootstrap), and the search indices
(an ANN index from dashboard.store.vectors.ANN_MIN_ROWS rows).
UMAP and t-SNE are skipped when asked (the dashboard computes them on demand). Afterwards the payload files no
artefact names any more (those it replaced) are deleted (dashboard/store/payloads.py).
"""

import numpy as np
import pandas as pd

from dashboard.analysis.closing import close_gaps
from dashboard.analysis.faithfulness import near_partners, pair_preservation, trustworthiness
from dashboard.analysis.landscape import loss_landscape
from dashboard.analysis.projection import project_modalities, project_out_of_sample, project_pairs
from dashboard.analysis.similarity import normalize
from dashboard.errors import GapscopeError
from dashboard.intervals import DEFAULT_B
from dashboard.metrics import DEFAULT_CLUSTER_METHOD, cluster_summary, compute_metrics, logit_bias_of
from dashboard.paired_bootstrap import store_paired
from dashboard.sql.figures import figures_of
from dashboard.store import Store, artifacts
from dashboard.store.store import Paired
from dashboard.stored_heatmap import store_views
from dashboard.streamed_heatmap import store_compared

CLUSTER_K = 10
FAITHFULNESS_KEY = "faithfulness"  # kind "metrics": {projection key: pair preservation and trustworthiness}


def _frame(item_ids: list[str], coords: dict[str, np.ndarray]) -> pd.DataFrame:
    """Long table item_id, modality, x, y from per-modality coordinates."""
    parts = [pd.DataFrame({"item_id": item_ids, "modality": m, "x": c[:, 0].astype(float), "y": c[:, 1].astype(float)})
             for m, c in coords.items()]
    return pd.concat(parts, ignore_index=True)


def _faithfulness(high: np.ndarray, blocks: list[np.ndarray], coords: list[np.ndarray], near: np.ndarray) -> dict:
    """Pair preservation (first two modalities) and trustworthiness of one projection."""
    kept = pair_preservation(blocks[0], blocks[1], coords[0], coords[1], high_near=near)
    return kept | {"trustworthiness": trustworthiness(high, np.vstack(coords))}


def _projections(store: Store, dataset: str, model: str, item_ids: list[str], vectors: dict[str, np.ndarray],
                 closed: bool, methods: list[str]) -> dict[str, dict]:
    """Store every projection of one variant (gap or closed); their faithfulness by artefact key."""
    names, blocks = list(vectors), [normalize(v, m) for m, v in vectors.items()]
    high, near = np.concatenate(blocks), near_partners(blocks[0], blocks[1])
    projected = {method: project_modalities(blocks, method) for method in methods}
    if "umap" in methods:
        projected["umap_oos"] = project_out_of_sample(blocks[0], blocks[1:])
    faithfulness = {}
    for method, coords in projected.items():
        key = artifacts.projection_key(method, closed)
        store.put_frame(dataset, model, artifacts.PROJECTION, key, _frame(item_ids, dict(zip(names, coords))))
        faithfulness[key] = _faithfulness(high, blocks, coords, near)
    pair_vectors, key = np.concatenate(blocks, axis=1), artifacts.projection_key("pairs_pca", closed)
    pairs = project_pairs(blocks, "pca")
    store.put_frame(dataset, model, artifacts.PROJECTION, key, _frame(item_ids, {"pair": pairs}))
    faithfulness[key] = {"trustworthiness": trustworthiness(pair_vectors, pairs)}
    return faithfulness


def _texts(store: Store, dataset: str, item_ids: list[str]) -> list[str] | None:
    """Captions of the items in the given order, or None when the dataset has no text."""
    items = store.items(dataset).set_index("item_id")
    texts = items["text"].reindex(item_ids)
    return None if texts.isna().all() else texts.fillna("").astype(str).tolist()


def _clusters(store: Store, dataset: str, model: str, item_ids: list[str], vectors: dict[str, np.ndarray],
              texts: list[str] | None) -> None:
    """Store Amumo's and the default clustering (k = 10) with each item's cluster label."""
    k = min(CLUSTER_K, len(item_ids))
    for method in ("amumo", DEFAULT_CLUSTER_METHOD):
        summary = cluster_summary(vectors, texts, k, method)
        names = dict(zip(sorted(set(summary["labels"].tolist())), summary["cluster_labels"] or []))
        frame = pd.DataFrame({"item_id": item_ids, "cluster": summary["labels"].astype(int),
                              "label": [names.get(c, str(c)) for c in summary["labels"].tolist()]})
        store.put_frame(dataset, model, artifacts.CLUSTERS, artifacts.clusters_key(method, k, summary["block"]), frame)


def precompute_summary(store: Store, dataset: str, model: str) -> tuple[Paired, list[str] | None]:
    """Compute and store the metrics summary and the SQL pair figures of one model (the summary's ranks: one pass
    per modality pair serves both); the pairs and texts."""
    modalities = store.dataset(dataset)["modalities"]
    paired = store.pairs(dataset, model, modalities)
    if len(paired) < 3:
        raise GapscopeError(f"precompute {dataset}/{model}: needs at least 3 items with every modality, "
                            f"has {len(paired)}")
    record = store.model(model)
    texts, kept = _texts(store, dataset, paired.item_ids), {}
    summary = compute_metrics(paired.vectors, modalities, float(record["logit_scale"]), texts,
                              clusters=min(CLUSTER_K, len(paired)), logit_bias=logit_bias_of(record),
                              bootstrap=DEFAULT_B, keep=kept)
    store.put_json(dataset, model, artifacts.METRICS, "summary", summary)
    store.put_frame(dataset, model, artifacts.PAIR_FIGURES, artifacts.pair_figures_key(modalities),
                    figures_of(paired, model, modalities, kept["ranks"]))
    return paired, texts


def precompute(store: Store, dataset: str, model: str, *, umap: bool = True, tsne: bool = True) -> None:
    """Compute and store the metrics summary, projections, clusterings and loss landscape of one model."""
    paired, texts = precompute_summary(store, dataset, model)
    modalities, scale = store.dataset(dataset)["modalities"], float(store.model(model)["logit_scale"])
    methods = ["pca"] + (["umap"] if umap else []) + (["tsne"] if tsne else [])
    faithfulness = {}
    for closed in (False, True):
        vectors = close_gaps(paired.vectors) if closed else paired.vectors
        faithfulness |= _projections(store, dataset, model, paired.item_ids, vectors, closed, methods)
    store.put_json(dataset, model, artifacts.METRICS, FAITHFULNESS_KEY, faithfulness)
    _clusters(store, dataset, model, paired.item_ids, paired.vectors, texts)
    first, second = modalities[0], modalities[1]
    landscape = loss_landscape(paired.vectors[first], paired.vectors[second], scale)
    store.put_json(dataset, model, artifacts.LANDSCAPE, f"{first}_{second}", landscape)
    store_views(store, dataset, model)
    store_compared(store, dataset, model)
    store_paired(store, dataset, model)
    store.index_vectors(dataset, model)
    store.sweep_payloads()
