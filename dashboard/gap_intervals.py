"""Seeded bootstrap intervals of the gap analysis (dashboard.gap_explained), mirroring its block with [lo, hi].

Pairs are resampled with replacement as integer count vectors (B resamples drawn once from a seeded generator);
every replicate is a function of those counts and of per-pair terms the analyses computed once (their `keep`
dicts), so nothing is recomputed per resample:
- shift ||g*||^2 and the shares of ||g*||^2 by dimension and along the full-set principal directions come from the
  resampled gap g* = c @ (a - b) / n (exact); the shape term is linearised, shape + c @ IF / n with IF its
  per-pair influence (frechet.shape_influence; infinitesimal jackknife, Jaeckel 1972), so the Fréchet distance is
  shift* + shape*;
- the energy distances are weighted U-statistics of the sample's distance matrices, pairs of distinct items
  weighted c_i c_j: (c' D c - sum_i c_i^2 D_ii) / (n^2 - sum_i c_i^2) (the centring held at the sample means);
- loss, Recall@K and entropies (ablation, closing, temperature) are weighted means of per-pair terms over their
  evaluation pairs at a fixed gallery and fixed fitted maps: the interval is that of the mean over queries, the
  negatives, the split and the fits held as they are;
- the gap of the ablation curve at each k is that of the ablated, renormalised pairs, exact up to float32 rounding
  of the renormalisation's part: ||c @ (w_a a - w_b b)|| / n over the kept dimensions, w the rows' renormalising
  weights at that k;
- the in-modal structure kept by each closing method is the Pearson correlation of the cosines before and after
  over pairs i < j of its structure rows, weighted c_i c_j (analysis.weighted_figures);
- pair-in-same-cluster and modality purity reweight the pairs at fixed cluster labels; V-measure and ARI between
  the image-side and text-side clusterings are exact functions of the resample's weighted contingency table at
  those labels (analysis.weighted_figures).
Resamples and intervals are dashboard.analysis.bootstrap's (seeded integer counts; bias-corrected percentile
intervals around the full-set estimate, the metrics' own method and reasons): a norm of a resampled mean (a gap) is
biased upward, which bias correction undoes; at a boundary (a closed gap, a share of 1) no percentile-type interval
contains the estimate.
"""

import numpy as np

from dashboard.analysis.bootstrap import percentile_interval
from dashboard.analysis.bootstrap import resample_counts as draw_counts
from dashboard.analysis.frechet import shape_influence
from dashboard.analysis.gap_dimensions import LEVELS
from dashboard.analysis.weighted_figures import adjusted_rand, contingency_tables, pair_pearson, v_measure


def resample_counts(n: int, b: int, seed: int = 0) -> np.ndarray:
    """(1 + b, n) counts: row 0 the full set (one per item), then bootstrap.resample_counts' b seeded resamples, so
    that every statistic evaluated on them gives its estimate first and its replicates after."""
    return np.vstack([np.ones((1, n)), draw_counts(n, b, seed)]).astype(np.float64)


def interval(statistic: np.ndarray, confidence: float) -> list[float]:
    """The project's bias-corrected percentile interval [lo, hi] of a statistic on resample_counts' rows (row 0
    the estimate, the rest the replicates)."""
    lo, hi = percentile_interval(np.asarray(statistic[1:], np.float64), confidence, float(statistic[0]))
    return [lo, hi]


def _means(counts: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Weighted means of per-pair values (n,) or (n, k) for every resample."""
    return counts @ np.asarray(values, np.float64) / counts.sum(axis=1).reshape((-1,) + (1,) * (np.ndim(values) - 1))


def _figures(counts: np.ndarray, terms: dict, confidence: float) -> dict:
    """Intervals of the loss and Recall@1/5/10 both ways from per-pair terms (evaluation.loss_and_recall)."""
    out = {"loss": interval(_means(counts, terms["loss"]), confidence)}
    for direction in ("a_to_b", "b_to_a"):
        hits = np.stack([terms[direction] <= k for k in (1, 5, 10)], axis=1)
        out[direction] = {str(k): interval(r, confidence) for k, r in zip((1, 5, 10), _means(counts, hits).T)}
    return out


def _share_counts(shares: np.ndarray) -> dict:
    """Per replicate, the size of the smallest set reaching each level (rows of shares sum to 1)."""
    cumulative = np.cumsum(-np.sort(-shares, axis=1), axis=1)
    return {f"count_{int(level * 100)}": (cumulative < level - 1e-12).sum(axis=1) + 1 for level in LEVELS}


def _location(g: np.ndarray, block: dict, directions: np.ndarray, confidence: float) -> dict:
    """Intervals of the shares of ||g*||^2 (top entries and set sizes) by dimension and principal direction."""
    out = {}
    for part, values in (("dimensions", g), ("directions", g @ directions)):
        shares = values ** 2 / np.maximum((values ** 2).sum(axis=1, keepdims=True), 1e-300)
        out[part] = {"top": [{"share": interval(shares[:, t["index"]], confidence)} for t in block[part]["top"]],
                     **{k: interval(v, confidence) for k, v in _share_counts(shares).items()}}
    return out


def _shape(a: np.ndarray, b: np.ndarray, counts: np.ndarray, block: dict, keep: dict, confidence: float,
           seed: int) -> tuple[dict, np.ndarray]:
    """Intervals of the Fréchet terms, their shares and the energy distances; the resampled gaps g*."""
    g = counts @ (a - b) / len(a)
    shift = (g ** 2).sum(axis=1)
    shape = block["shape"] + counts @ shape_influence(a, b, keep.get("moments")) / len(a)
    total = shift + shape
    rows, d = keep["shift_or_shape"]["rows"], keep["shift_or_shape"]["distances"]
    sample = resample_counts(len(rows), len(counts) - 1, seed + 1)
    squares = (sample ** 2).sum(axis=1)
    weigh = {name: (((sample @ m) * sample).sum(axis=1) - sample ** 2 @ np.diag(m)) / (len(rows) ** 2 - squares)
             for name, m in d.items()}
    energy = 2 * weigh["ab"] - weigh["aa"] - weigh["bb"]
    centred = 2 * weigh["ab_centred"] - weigh["aa"] - weigh["bb"]
    values = {"frechet": total, "shift": shift, "shape": shape, "shift_share": shift / total,
              "shape_share": shape / total, "energy": energy, "energy_centred": centred,
              "energy_kept_share": centred / np.where(energy > 0, energy, np.inf)}
    return {name: interval(v, confidence) for name, v in values.items()}, g


def gap_intervals(a: np.ndarray, b: np.ndarray, block: dict, keep: dict, b_count: int = 200,
                  confidence: float = 0.95, seed: int = 0) -> dict:
    """Intervals mirroring the gap analysis block, from the L2-normalised pairs and the analyses' kept terms."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    counts = resample_counts(len(a), b_count, seed)
    shape, g = _shape(a, b, counts, block["shift_or_shape"], keep, confidence, seed)
    ablation, temperature = keep["ablation"], keep["temperature"]
    evaluation = resample_counts(len(ablation["rows"]), b_count, seed + 2)
    curve = [_figures(evaluation, terms, confidence) for terms in ablation["terms"]]
    return {"shift_or_shape": shape, "location": _location(g, block["location"], keep["location"]["directions"],
                                                          confidence),
            "ablation": {"gap": [interval(r, confidence) for r in
                                 ablation_gap_replicates(a, b, counts, block["ablation"]["k"], ablation, g).T],
                         **{name: [c[name] for c in curve] for name in ("loss", "a_to_b", "b_to_a")}},
            "closing": {"methods": _closing(keep["closing"], block["closing"]["methods"], b_count, confidence, seed)},
            "joint_clustering": _joint(counts, keep["joint_clustering"], confidence),
            "temperature": _temperature(resample_counts(len(temperature["rows"]), b_count, seed + 2), temperature,
                                        confidence)}


def ablation_gap_replicates(a: np.ndarray, b: np.ndarray, counts: np.ndarray, ks: list[int], kept: dict,
                            gaps: np.ndarray | None = None) -> np.ndarray:
    """(R, len(ks)) gaps of the ablated, renormalised pairs per row of counts: ||c @ (w_a a - w_b b)|| / n over the
    kept dimensions (`kept`: the ablation's gap order and renormalising weights w), as the resampled gaps
    c @ (a - b) / n (float64; `gaps` when already computed) plus the renormalisation's part
    c @ ((w_a - 1) a - (w_b - 1) b) / n in float32 (one n-row product per k; its rounding, ~1e-7 of that part, far
    below the interval's Monte-Carlo error)."""
    order = kept["order"]
    gaps = counts @ (a - b) / len(a) if gaps is None else gaps
    base = gaps[:, order] * len(a)  # columns by gap share: the kept ones are a trailing slice
    ordered_a, ordered_b = a[:, order].astype(np.float32), b[:, order].astype(np.float32)
    weight_a, weight_b = (np.asarray(w, np.float32) - np.float32(1.0) for w in kept["weights"])
    resamples = counts.astype(np.float32)
    out = np.empty((len(counts), len(ks)))
    for column, k in enumerate(ks):
        if k:
            moved = weight_a[:, column, None] * ordered_a[:, k:] - weight_b[:, column, None] * ordered_b[:, k:]
            total = base[:, k:] + resamples @ moved
        else:
            total = base
        out[:, column] = np.linalg.norm(total, axis=1) / len(a)
    return out


def _closing(held: dict, block: dict, b_count: int, confidence: float, seed: int) -> dict:
    """Per closing method: intervals of the held-out gap, loss, recalls and in-modal structure kept."""
    held_counts = resample_counts(len(held["held"]), b_count, seed + 3)
    methods = {}
    for name, terms in held["methods"].items():
        gap = np.linalg.norm(held_counts @ terms["difference"].astype(np.float64) / len(held["held"]), axis=1)
        structure = resample_counts(len(terms["structure_a"][0]), b_count, seed + 5)
        methods[name] = {"gap": interval(gap, confidence),
                         **_figures(resample_counts(len(terms["rows"]), b_count, seed + 4), terms, confidence),
                         **{side: interval(pair_pearson(structure, *terms[side], block[name][side]), confidence)
                            for side in ("structure_a", "structure_b")}}
    return methods


def _joint(counts: np.ndarray, labels: dict, confidence: float) -> dict:
    """Intervals of the pair-in-same-cluster rate and the modality purity of the union's clustering, and of the
    V-measure and ARI of the two sides' clusterings, at fixed labels."""
    on_a, on_b = labels["union_a"], labels["union_b"]
    k = int(max(on_a.max(), on_b.max())) + 1
    per_a, per_b = counts @ np.eye(k)[on_a], counts @ np.eye(k)[on_b]
    purity = np.maximum(per_a, per_b).sum(axis=1) / (per_a.sum(axis=1) + per_b.sum(axis=1))
    tables = contingency_tables(counts, labels["side_a"], labels["side_b"])
    return {"pair_same_cluster": interval(_means(counts, on_a == on_b), confidence),
            "modality_purity": interval(purity, confidence), "v_measure": interval(v_measure(tables), confidence),
            "adjusted_rand": interval(adjusted_rand(tables), confidence)}


def _temperature(counts: np.ndarray, kept: dict, confidence: float) -> dict:
    """Intervals of the loss and mean entropies at every scale of the grid."""
    return {name: [interval(_means(counts, terms[name]), confidence) for terms in kept["terms"]]
            for name in ("loss", "entropy_a_to_b", "entropy_b_to_a")}
