"""Bootstrap intervals of the metrics (analysis.bootstrap): per-item terms computed once, replicates for every figure.

`ItemTerms` holds what every figure of one model on n items is a function of: the normalised vectors, the
partner ranks of every direction, the loss terms of the pairs that have a loss and each modality's uniformity with
its per-row kernel means. `replicates` turns a (B, n) count matrix into a tree of B replicates per figure, named
as in the metrics object, for every pair in `terms.pairs`:
{"gap_distances": {"a_b"}, "loss": {"a_b"}, "recall_at_k": {"a_to_b": {"1", "5", "10"}}, "alignment": {"a_b"},
"matched_cosine": {"a_b"}, "unmatched_cosine": {"a_b"}, "relative_gap": {"a_b"}, "uniformity": {"a"}}.
What each replicate is, and what stays fixed:
- gap distance: ||(c A - c B)|| / n, the distance of the resampled centroids (exact);
- loss and Recall@K: resampled means of each query's term (log-sum-exp minus positive; rank <= K), with the
  log-sum-exps and ranks of the full set. The negatives, i.e. the gallery, stay the full set of n items: the
  interval is the uncertainty of the mean over queries at a fixed gallery, not of re-running retrieval on a
  resampled gallery (which would need the similarities again);
- alignment, matched cosine: resampled means (exact); unmatched cosine and the relative gap's within-modality
  cosines: exact means over pairs of distinct resampled items; uniformity: its first-order projection.
Intervals are as reproducible as their per-item terms: the bootstrap itself adds ~1e-12 across BLAS kernels;
ranks are exact, while the loss terms come from the logits' log-sum-exps (float32 blocks for float32 embeddings),
so the loss interval is float-rounded like the loss itself.
`metric_intervals` mirrors the metrics object ("ci": [lo, hi] wherever a figure is covered); `paired_differences`
evaluates two models on the same resamples (significant when the interval of the difference excludes 0).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Callable

import numpy as np

from dashboard.analysis.alignment import uniformity_terms
from dashboard.analysis.bootstrap import (distinct_pair_mean, paired_difference, percentile_interval,
                                          projected_replicates, resample_counts, weighted_means, weighted_sums)
from dashboard.analysis.loss import loss_terms
from dashboard.analysis.pairwise import scan
from dashboard.analysis.similarity import normalize
from dashboard.errors import GapscopeError

DEFAULT_B = 200  # resamples of the stored and shown intervals
METHOD = "bias-corrected percentile (BC)"
KS = (1, 5, 10)
PAIR_FIGURES = ("loss", "alignment", "matched_cosine", "unmatched_cosine", "relative_gap")


@dataclass(frozen=True)
class ItemTerms:
    """Per-item arrays of one model on n items (rows aligned across modalities)."""

    vectors: dict[str, np.ndarray]
    ranks: dict[str, np.ndarray]
    loss: dict[str, np.ndarray]
    uniformity: dict[str, tuple[float, np.ndarray]]
    pairs: list[tuple[str, str]]

    @property
    def n(self) -> int:
        """Number of items."""
        return len(next(iter(self.vectors.values())))


def item_terms(vectors: dict[str, np.ndarray], ranks: dict[str, np.ndarray], loss: dict[str, np.ndarray],
               pairs: list[tuple[str, str]] | None = None,
               uniformity: dict[str, tuple[float, np.ndarray]] | None = None) -> ItemTerms:
    """ItemTerms from raw vectors, ranks by direction "a_to_b" and loss terms by pair "a_b" (uniformity computed
    when not given)."""
    blocks = {m: normalize(v, m) for m, v in vectors.items()}
    uniform = uniformity if uniformity is not None else {m: uniformity_terms(v) for m, v in blocks.items()}
    return ItemTerms(blocks, ranks, loss, uniform, list(pairs or combinations(blocks, 2)))


def every_pair_terms(blocks: dict[str, np.ndarray], scale: float, kind: str = "infonce") -> ItemTerms:
    """ItemTerms of every modality pair: one pass over each pair's logits gives its loss terms and ranks."""
    normalised, ranks, losses = {m: normalize(v, m) for m, v in blocks.items()}, {}, {}
    for a, b in combinations(normalised, 2):
        result = scan(normalised[a], normalised[b], float(scale))
        losses[f"{a}_{b}"] = loss_terms(result, kind)
        ranks |= {f"{a}_to_{b}": result.row_rank, f"{b}_to_{a}": result.col_rank}
    return item_terms(normalised, ranks, losses)


def _pair_replicates(x: np.ndarray, y: np.ndarray, sums: tuple[np.ndarray, np.ndarray],
                     counts: np.ndarray) -> dict[str, np.ndarray]:
    """Alignment, matched/unmatched cosine and relative gap replicates of one pair."""
    matched = np.einsum("ij,ij->i", x, y, dtype=np.float64)
    aligned = np.einsum("ij,ij->i", x - y, x - y, dtype=np.float64)
    means = weighted_means(counts, np.stack([aligned, matched], axis=1))
    ones = np.ones(len(x))
    intra = [(1.0 - distinct_pair_mean(counts, s, s, ones)) / 2.0 for s in sums]
    distance = (1.0 - means[:, 1]) / 2.0
    with np.errstate(invalid="ignore", divide="ignore"):
        relative = distance / (0.5 * (intra[0] + intra[1]) + distance)
    return {"alignment": means[:, 0], "matched_cosine": means[:, 1],
            "unmatched_cosine": distinct_pair_mean(counts, sums[0], sums[1], matched), "relative_gap": relative}


def replicates(terms: ItemTerms, counts: np.ndarray) -> dict:
    """B replicates of every figure, as a tree named like the metrics object (see the module docstring)."""
    n, counts = counts.shape[1], np.asarray(counts, dtype=np.float64)  # exact integers, converted once
    sums = {m: weighted_sums(counts, v) for m, v in terms.vectors.items()}
    tree: dict = {"gap_distances": {f"{a}_{b}": np.linalg.norm(sums[a] - sums[b], axis=1) / n
                                    for a, b in combinations(terms.vectors, 2)},
                  "recall_at_k": {}, **{name: {} for name in PAIR_FIGURES}}
    for direction, ranks in terms.ranks.items():
        hits = weighted_means(counts, np.stack([np.asarray(ranks) <= k for k in KS], axis=1).astype(np.float64))
        tree["recall_at_k"][direction] = {str(k): hits[:, j] for j, k in enumerate(KS)}
    for name, loss in terms.loss.items():
        tree["loss"][name] = weighted_means(counts, loss)
    for a, b in terms.pairs:
        figures = _pair_replicates(terms.vectors[a], terms.vectors[b], (sums[a], sums[b]), counts)
        for name, values in figures.items():
            tree[name][f"{a}_{b}"] = values
    tree["uniformity"] = {m: projected_replicates(counts, h, value, 1.0 / np.exp(value))
                          for m, (value, h) in terms.uniformity.items()}
    return {key: value for key, value in tree.items() if value}


def map_tree(tree: dict, leaf: Callable) -> dict:
    """The tree with `leaf` applied to every array."""
    return {k: map_tree(v, leaf) if isinstance(v, dict) else leaf(v) for k, v in tree.items()}


def zip_tree(first: dict, second: dict, leaf: Callable) -> dict:
    """`leaf(a, b)` on the arrays both trees hold at the same place."""
    return {k: zip_tree(v, second[k], leaf) if isinstance(v, dict) else leaf(v, second[k])
            for k, v in first.items() if k in second}


def estimate_tree(terms: ItemTerms) -> dict:
    """The full-set value of every figure: its statistic at counts of one per item."""
    return map_tree(replicates(terms, np.ones((1, terms.n), dtype=np.int64)), lambda r: float(r[0]))


def interval_tree(tree: dict, estimates: dict, confidence: float) -> dict:
    """[lo, hi] at every leaf of a replicate tree, bias-corrected around the estimates' tree."""
    return zip_tree(tree, estimates, lambda r, e: list(percentile_interval(r, confidence, e)))


def metrics_mirror(tree: dict, first_pair: str) -> dict:
    """A tree of per-pair figures laid out as the metrics object: first-pair scalars, gap_distances for all pairs."""
    out = {"gap_distances": tree["gap_distances"], "gap_distance": tree["gap_distances"][first_pair],
           "recall_at_k": tree.get("recall_at_k", {}), "uniformity": tree.get("uniformity", {})}
    for name in PAIR_FIGURES:
        if first_pair in tree.get(name, {}):
            out[name] = tree[name][first_pair]
    return out


def metric_intervals(terms: ItemTerms, first_pair: str, b: int = 200, confidence: float = 0.95,
                     seed: int = 0) -> dict:
    """{"ci": intervals mirroring the metrics object, "bootstrap": how they were made}."""
    tree = replicates(terms, resample_counts(terms.n, b, seed))
    intervals = interval_tree(tree, estimate_tree(terms), confidence)
    meta = {"B": int(b), "confidence": float(confidence), "seed": int(seed), "method": METHOD,
            "resampled": "items (pairs), with replacement",
            "fixed": "loss and recall keep the full set as negatives / gallery",
            "uniformity": "first-order (Hajek) projection of the pair mean"}
    return {"ci": metrics_mirror(intervals, first_pair), "bootstrap": meta}


def paired_differences(first: ItemTerms, second: ItemTerms, b: int = 200, confidence: float = 0.95,
                       seed: int = 0) -> dict:
    """Per figure {"difference": second - first, "interval": [lo, hi] of it, "significant"} on the same
    resampled items."""
    if first.n != second.n:
        raise GapscopeError(f"paired bootstrap: the models cover {first.n} and {second.n} items, not the same items")
    counts, ones = resample_counts(first.n, b, seed), np.ones((1, first.n), dtype=np.int64)
    differences = zip_tree(replicates(first, ones), replicates(second, ones), lambda a, c: float(c[0] - a[0]))
    pairs = zip_tree(replicates(first, counts), replicates(second, counts), lambda a, c: (a, c))
    return zip_tree(pairs, differences, lambda ac, e: {"difference": e, **paired_difference(*ac, confidence, e)})
