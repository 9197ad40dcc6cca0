"""The metrics object `gapscope metrics` prints: one JSON-serialisable dict of every analysis for one model.

Directions and pairs are named after the modalities: the loss and Recall@K of "image_to_text" query with the first
modality; gap distances are listed for every pair "a_b" in the given order. The scalar figures of the first pair
(loss, sigmoid loss, alignment, relative gap, matched/unmatched cosines) sit at the top level; those of every
further pair (three or more modalities) under "other_pairs"["a_b"]. The clustering block "rows_columns"
(default: second modality x first, Amumo's text x image block) selects the rows clustered by Amumo's method.
"""

from itertools import combinations

import numpy as np

from dashboard.analysis.alignment import alignment, matched_cosine, uniformity_terms, unmatched_cosine
from dashboard.analysis.closing import close_gaps
from dashboard.analysis.clustering import (amumo_clusters_from_embeddings, block_modalities, cluster_sizes,
                                           kmeans_clusters, ngram_labels, sort_order)
from dashboard.analysis.gap import gap_distance
from dashboard.analysis.loss import batch_loss_terms, check_options, contrastive_loss, loss_from_scan, loss_terms
from dashboard.analysis.pairwise import scan
from dashboard.analysis.ranking import ties
from dashboard.analysis.relative_gap import relative_gap
from dashboard.analysis.retrieval import ranks_both, recall_at_k
from dashboard.analysis.sigmoid_loss import sigmoid_loss
from dashboard.errors import GapscopeError
from dashboard.intervals import item_terms, metric_intervals
from dashboard.gap_explained import gap_analysis_with_intervals
from dashboard.options import check_modalities

CLUSTER_METHODS = ("amumo", "kmeans")
DEFAULT_CLUSTER_METHOD = "kmeans"


def logit_bias_of(model: dict) -> float | None:
    """The logit bias a model record keeps in its config (SigLIP's), or None."""
    bias = (model.get("config") or {}).get("logit_bias")
    return None if bias is None else float(bias)


def _check(vectors: dict[str, np.ndarray], modalities: list[str]) -> None:
    """At least two distinct known modalities with the same number of rows."""
    check_modalities(list(modalities), "metrics: modalities", at_least=2)
    missing = [m for m in modalities if m not in vectors]
    if missing:
        raise GapscopeError(f"metrics: no embeddings for modality {missing[0]!r}")
    rows = {m: len(vectors[m]) for m in modalities}
    if len(set(rows.values())) != 1 or not min(rows.values()):
        raise GapscopeError(f"metrics: modalities have different or zero row counts {rows}")
    dims = {m: np.shape(vectors[m])[-1] for m in modalities}
    if len(set(dims.values())) != 1:
        raise GapscopeError(f"metrics: modalities have different embedding dimensions {dims}")


def cluster_summary(vectors: dict[str, np.ndarray], texts: list[str] | None, k: int = 10, method: str = "amumo",
                    block: str | None = None, modalities: list[str] | None = None) -> dict:
    """Labels (1..k), sizes, Amumo's sort order and n-gram labels of one clustering."""
    modalities = modalities or list(vectors)
    block = block or f"{modalities[1]}_{modalities[0]}"
    rows, columns = block_modalities(block, modalities)
    if method == "amumo":
        labels = amumo_clusters_from_embeddings(vectors[rows], vectors[columns], k)
    elif method == "kmeans":
        labels = kmeans_clusters(vectors[columns], vectors[rows], k)
    else:
        raise GapscopeError(f"clustering: unknown method {method!r} (choose from {', '.join(CLUSTER_METHODS)})")
    return {"labels": np.asarray(labels, dtype=int), "block": block, "cluster_sizes": cluster_sizes(labels),
            "cluster_sort_idcs": sort_order(labels).tolist(),
            "cluster_labels": ngram_labels(texts, labels) if texts is not None else []}


def loss_and_recalls(vectors: dict[str, np.ndarray], modalities: list[str], kind: str, scale: float,
                     batch_size: int | None, keep: dict | None = None) -> tuple[dict[str, float], dict]:
    """The loss of every pair "a_b" and Recall@1/5/10 both ways for every pair; one pass over each pair's logits
    serves both when the loss takes all pairs at once. `keep` (if given) receives the per-item terms:
    "loss" (the first pair's loss terms) and "ranks" by direction, for the bootstrap."""
    wanted, keep = keep is not None, {} if keep is None else keep
    first, second = modalities[0], modalities[1]
    check_options(kind, scale, batch_size, len(vectors[first]))
    losses, recalls, keep["ranks"] = {}, {}, {}
    for a, b in combinations(modalities, 2):
        if batch_size is None:
            shared = scan(vectors[a], vectors[b], float(scale))
            losses[f"{a}_{b}"], (forward, backward) = loss_from_scan(shared, kind), (shared.row_rank, shared.col_rank)
            if (a, b) == (first, second):
                keep["loss"] = loss_terms(shared, kind)
        else:
            losses[f"{a}_{b}"] = contrastive_loss(vectors[a], vectors[b], kind, scale, batch_size)
            forward, backward = ranks_both(vectors[a], vectors[b])
        keep["ranks"] |= {f"{a}_to_{b}": forward, f"{b}_to_{a}": backward}
        recalls[f"{a}_to_{b}"], recalls[f"{b}_to_{a}"] = recall_at_k(forward), recall_at_k(backward)
    if batch_size is not None and wanted:
        keep["loss"] = batch_loss_terms(vectors[first], vectors[second], kind, scale, batch_size)
    return losses, recalls


def pair_figures(x: np.ndarray, y: np.ndarray, loss: float, scale: float, bias: float | None,
                 batch_size: int | None) -> dict:
    """The loss (given), SigLIP's sigmoid loss (with a bias), alignment, relative gap and matched/unmatched cosines
    of one modality pair."""
    return {"loss": loss, "sigmoid_loss": None if bias is None else sigmoid_loss(x, y, scale, bias, batch_size),
            "alignment": alignment(x, y), "relative_gap": relative_gap(x, y), "matched_cosine": matched_cosine(x, y),
            "unmatched_cosine": unmatched_cosine(x, y)}


def compute_metrics(vectors: dict[str, np.ndarray], modalities: list[str], logit_scale: float,
                    texts: list[str] | None, loss: str = "infonce", batch_size: int | None = None,
                    closed_gap: bool = False, clusters: int = 10, cluster_method: str = "amumo",
                    cluster_block: str | None = None, logit_bias: float | None = None, bootstrap: int = 0,
                    confidence: float = 0.95, seed: int = 0, gap_fraction: float = 1.0,
                    keep: dict | None = None) -> dict:
    """Every metric of one model on one dataset as plain JSON values (SigLIP's sigmoid loss too, for a model
    with a logit bias; the gap analysis of the first pair, its mean shift closing `gap_fraction` of the gap); with
    `bootstrap` B > 0, also "ci" and "bootstrap" (dashboard.intervals; the gap analysis' under ci["gap_analysis"],
    dashboard.gap_intervals). `keep` (if given) receives the per-item terms of loss_and_recalls ("ranks" by
    direction "a_to_b", "loss")."""
    _check(vectors, modalities)
    vectors = {m: np.asarray(vectors[m]) for m in modalities}
    if closed_gap:
        vectors = close_gaps(vectors)
    first, second = modalities[0], modalities[1]
    a, b = vectors[first], vectors[second]
    distances = {f"{x}_{y}": gap_distance(vectors[x], vectors[y]) for x, y in combinations(modalities, 2)}
    kept = keep if keep is not None else ({} if bootstrap else None)
    losses, recalls = loss_and_recalls(vectors, modalities, loss, logit_scale, batch_size, kept)
    figures = {pair: pair_figures(vectors[x], vectors[y], losses[pair], logit_scale, logit_bias, batch_size)
               for x, y in combinations(modalities, 2) for pair in [f"{x}_{y}"]}
    first_pair = figures.pop(f"{first}_{second}")
    uniform = {m: uniformity_terms(vectors[m]) for m in modalities}
    clustering = cluster_summary(vectors, texts, clusters, cluster_method, cluster_block, modalities)
    explained, intervals = gap_analysis_with_intervals(a, b, logit_scale, clusters, gap_fraction, bootstrap,
                                                       confidence, seed)
    result = {
        "n": int(len(a)), "modalities": list(modalities), "closed_gap": bool(closed_gap),
        "gap_distance": distances[f"{first}_{second}"], "gap_distances": distances,
        "loss": first_pair["loss"], "loss_kind": loss,
        "batch_size": None if batch_size is None else int(batch_size), "logit_scale": float(logit_scale),
        "logit_bias": None if logit_bias is None else float(logit_bias), "sigmoid_loss": first_pair["sigmoid_loss"],
        "recall_at_k": recalls, "rank_ties": ties(),
        "cluster_method": cluster_method, "cluster_block": clustering["block"], "clusters": int(clusters),
        "cluster_sizes": clustering["cluster_sizes"], "cluster_labels": clustering["cluster_labels"],
        "cluster_sort_idcs": clustering["cluster_sort_idcs"],
        "alignment": first_pair["alignment"], "uniformity": {m: uniform[m][0] for m in modalities},
        "relative_gap": first_pair["relative_gap"], "matched_cosine": first_pair["matched_cosine"],
        "unmatched_cosine": first_pair["unmatched_cosine"], "other_pairs": figures,
        "gap_analysis": explained,
    }
    if bootstrap:
        terms = item_terms(vectors, kept["ranks"], {f"{first}_{second}": kept["loss"]}, [(first, second)], uniform)
        result |= metric_intervals(terms, f"{first}_{second}", bootstrap, confidence, seed)
    if intervals:
        result["ci"]["gap_analysis"] = intervals
    return result
