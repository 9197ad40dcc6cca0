"""Joint clustering: do images and texts cluster together, or does the gap split every cluster by modality?

With L2-normalised pairs (a_i, b_i), i = 1..N:
- k-means (dashboard.analysis.clustering.kmeans_points: greedy k-means++ seeding, Lloyd iterations, fixed seed; in
  float64 so that the labels do not depend on the BLAS kernel) on the union of the 2M rows of a seeded sample of
  M = min(N, FIT_PAIRS) pairs, then every one of the 2N rows is assigned to its nearest centre (so the cost stays
  O(M k d) per iteration while every rate below is over all N pairs);
- pair-in-same-cluster rate: (1/N) #{i : c(a_i) = c(b_i)}. It is 1 when both modalities coincide; for unrelated
  modalities drawn from one distribution it is sum_c p_c^2 (1/k for balanced clusters); a gap that puts each
  modality in clusters of its own drives it to 0 while retrieval, a ranking within the other modality, can stay
  intact;
- modality purity: (1/2N) sum_c max(#a in c, #b in c): 1/2 for clusters evenly mixed, 1 for clusters of one
  modality each;
- agreement between a k-means clustering of the a side and one of the b side (each alone): V-measure (Rosenberg &
  Hirschberg, EMNLP 2007) and adjusted Rand index (Hubert & Arabie, J. Classif. 1985), from scikit-learn.
"""

import numpy as np
from sklearn.metrics import adjusted_rand_score, v_measure_score

from dashboard.analysis.clustering import kmeans_points
from dashboard.analysis.evaluation import seeded_rows
from dashboard.errors import GapscopeError


FIT_PAIRS = 2000


def nearest_centre(z: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Index of the nearest centre (Euclidean) of every row."""
    return (np.einsum("ij,ij->i", centres, centres)[None, :] - 2.0 * (z @ centres.T)).argmin(axis=1)


def fit_assign(fit: np.ndarray, z: np.ndarray, k: int, seed: int) -> np.ndarray:
    """k-means fitted on the rows of `fit`, labels 0..k-1 of every row of z by its nearest non-empty centre."""
    labels = kmeans_points(fit, k, seed)
    used = np.unique(labels)
    centres = np.stack([fit[labels == c].mean(axis=0) for c in used])
    return used[nearest_centre(z, centres)]


def pair_same_cluster(labels_a: np.ndarray, labels_b: np.ndarray) -> float:
    """Share of pairs whose two members carry the same label."""
    return float(np.mean(np.asarray(labels_a) == np.asarray(labels_b)))


def modality_purity(labels_a: np.ndarray, labels_b: np.ndarray, k: int) -> float:
    """(1/2N) sum over clusters of the larger modality's count."""
    counts = np.stack([np.bincount(labels_a, minlength=k), np.bincount(labels_b, minlength=k)])
    return float(counts.max(axis=0).sum() / counts.sum())


def joint_clustering(a: np.ndarray, b: np.ndarray, k: int = 10, seed: int = 0, keep: dict | None = None) -> dict:
    """Pair-in-same-cluster rate and modality purity of k-means on the union; V-measure and ARI of the two sides
    (`keep`, if given, receives the labels: "union_a", "union_b", "side_a", "side_b")."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape or a.ndim != 2:
        raise GapscopeError(f"joint clustering: paired blocks differ in shape ({a.shape} vs {b.shape})")
    if not 2 <= int(k) <= len(a):
        raise GapscopeError(f"joint clustering: {k} clusters do not fit {len(a)} pairs (need 2 <= k <= N)")
    k, rows = int(k), seeded_rows(len(a), seed, FIT_PAIRS)
    union = fit_assign(np.concatenate([a[rows], b[rows]]), np.concatenate([a, b]), k, seed)
    on_a, on_b = union[:len(a)], union[len(a):]
    side_a, side_b = fit_assign(a[rows], a, k, seed), fit_assign(b[rows], b, k, seed)
    if keep is not None:
        keep |= {"union_a": on_a, "union_b": on_b, "side_a": side_a, "side_b": side_b}
    return {"k": int(k), "pair_same_cluster": pair_same_cluster(on_a, on_b),
            "modality_purity": modality_purity(on_a, on_b, int(k)),
            "chance_same_cluster": float(np.sum((np.bincount(union, minlength=k) / len(union)) ** 2)),
            "v_measure": float(v_measure_score(side_a, side_b)),
            "adjusted_rand": float(adjusted_rand_score(side_a, side_b))}
