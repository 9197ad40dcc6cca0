"""Clustering the items by similarity, and cluster labels from the captions' n-grams.

Amumo's method (Humer et al., JVI 2024; `get_cluster_sorting` in amumo/utils.py): take the block S of the
similarity matrix whose rows are one modality (texts) and columns another (images); each ROW of 1 - S is an
observation vector, compared by Euclidean distance; complete-linkage agglomerative clustering
(scipy `linkage(1 - S, method="complete")`) cut into k clusters (`fcluster(maxclust=k)`, labels 1..k); the
display order (`cluster_sort_idcs`) is numpy's argsort of the labels, reproduced with numpy's classic introsort
(`sort_order`), and the sizes are listed by cluster id 1..k.
`amumo_clusters_from_embeddings` gives the same result without forming the N x N block: the rows of
1 - X Y^T differ only by (x_i - x_j) Y^T, whose norm is ||(x_i - x_j) W|| with W W^T = Y^T Y (d x d), so the
pairwise distances are computed from N x d vectors with one BLAS product (N = 5000: about a second, most of it
scipy's O(N^2) linkage, instead of minutes for the N x N observation vectors).
Above `MAX_LINKAGE_N` items the condensed distance matrix (N^2/2 doubles) and the O(N^2) linkage get too large for
this machine, so the hierarchy is built on a fixed-seed random sample of `MAX_LINKAGE_N` items and every other item
joins the cluster of its nearest sampled item (an approximation of Amumo's method, exact below the limit).

Default method ("kmeans"): k-means (greedy k-means++ seeding, fixed seed) on the pair vectors
z_i = [a_i | b_i] / sqrt(2) of the L2-normalised embeddings. Why: it uses both members of each pair, not one
modality's similarity profile; a modality gap is a constant offset per modality and so leaves all distances between
pair vectors unchanged (gap-invariant; shifting one modality changes every row of 1 - S, so Amumo's clustering is
not); complete linkage tends to split off tiny outlier clusters, k-means gives balanced groups; and it runs in
O(N k d) per iteration, so it scales to any N (own numpy Lloyd iterations: a few BLAS products per step; clusters
numbered by decreasing size).

Labels (Amumo's `aggregate_texts` / `get_textual_label_for_cluster`): count the 1..77-grams of the cluster's captions
(scikit-learn CountVectorizer, English stop words removed); order the n-grams by (length of the n-gram text, count)
ascending, ties in vocabulary order; drop every n-gram that is a substring of a later one with at least its count;
order the rest by count, descending (stable); the label joins the top two with " | ".
"""

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform

from dashboard.analysis.similarity import normalize
from dashboard.errors import GapscopeError

MAX_LINKAGE_N = 5000


def _check_k(k: int, n: int) -> None:
    """k must be a positive number of clusters no larger than the number of items."""
    if not 1 <= int(k) <= n:
        raise GapscopeError(f"clustering: {k} clusters do not fit {n} items")


def _partition(keys: list, idx: list[int], lo: int, hi: int) -> int:
    """Median-of-three pivot placement and Hoare partition of idx[lo..hi] by keys; the pivot's final position."""
    mid = lo + ((hi - lo) >> 1)
    for i, j in ((mid, lo), (hi, mid), (mid, lo)):
        if keys[idx[i]] < keys[idx[j]]:
            idx[i], idx[j] = idx[j], idx[i]
    pivot = keys[idx[mid]]
    idx[mid], idx[hi - 1] = idx[hi - 1], idx[mid]
    left, right = lo, hi - 1
    while True:
        left += 1
        while keys[idx[left]] < pivot:
            left += 1
        right -= 1
        while pivot < keys[idx[right]]:
            right -= 1
        if left >= right:
            break
        idx[left], idx[right] = idx[right], idx[left]
    idx[left], idx[hi - 1] = idx[hi - 1], idx[left]
    return left


def _insertion_sort(keys: list, idx: list[int], lo: int, hi: int) -> None:
    """Sort idx[lo..hi] by keys in place, moving only past strictly larger keys."""
    for i in range(lo + 1, hi + 1):
        item, j = idx[i], i
        while j > lo and keys[item] < keys[idx[j - 1]]:
            idx[j] = idx[j - 1]
            j -= 1
        idx[j] = item


def sort_order(labels: np.ndarray) -> np.ndarray:
    """Amumo's `cluster_sort_idcs`: the order of numpy's classic (pre-SIMD) introsort `argsort` of the labels.

    Partitions above 16 items split at a median-of-three pivot, the smaller side first, the rest insertion-sorted;
    the unstable order within a cluster is what numpy < 1.25 returned (newer numpy may sort with SIMD kernels).
    """
    keys, idx = np.asarray(labels).tolist(), list(range(len(labels)))
    stack, lo, hi = [], 0, len(idx) - 1
    while True:
        while hi - lo > 16:
            p = _partition(keys, idx, lo, hi)
            if p - lo < hi - p:
                stack.append((p + 1, hi))
                hi = p - 1
            else:
                stack.append((lo, p - 1))
                lo = p + 1
        _insertion_sort(keys, idx, lo, hi)
        if not stack:
            return np.asarray(idx, dtype=np.int64)
        lo, hi = stack.pop()


def cluster_sizes(labels: np.ndarray) -> list[int]:
    """Size of every cluster, by ascending cluster id."""
    return [int(c) for c in np.unique(labels, return_counts=True)[1]]


def amumo_clusters(block: np.ndarray, k: int = 10) -> np.ndarray:
    """Amumo's labels (1..k): complete linkage on the rows of 1 - block (Euclidean), cut into k clusters."""
    block = np.asarray(block, dtype=np.float64)
    _check_k(k, len(block))
    if len(block) == 1:
        return np.ones(1, dtype=np.int32)
    return fcluster(linkage(1 - block, method="complete"), k, criterion="maxclust")


def _condensed_distances(z: np.ndarray) -> np.ndarray:
    """Condensed Euclidean distance matrix of the rows of z via the Gram trick (float64, in place)."""
    sq = np.einsum("ij,ij->i", z, z)
    d = z @ z.T
    d *= -2.0
    d += sq[:, None]
    d += sq[None, :]
    np.maximum(d, 0.0, out=d)
    np.sqrt(d, out=d)
    return squareform(d, checks=False)


def amumo_clusters_from_embeddings(rows: np.ndarray, columns: np.ndarray, k: int = 10) -> np.ndarray:
    """Amumo's labels for the block normalise(rows) normalise(columns)^T, without forming that block."""
    x = normalize(rows, "rows").astype(np.float64)
    y = normalize(columns, "columns").astype(np.float64)
    _check_k(k, len(x))
    if len(x) == 1:
        return np.ones(1, dtype=np.int32)
    values, vectors = np.linalg.eigh(y.T @ y)
    z = x @ (vectors * np.sqrt(np.clip(values, 0.0, None)))
    if len(z) <= MAX_LINKAGE_N:
        return fcluster(linkage(_condensed_distances(z), method="complete"), k, criterion="maxclust")
    sample = np.sort(np.random.default_rng(0).choice(len(z), MAX_LINKAGE_N, replace=False))
    sample_labels = fcluster(linkage(_condensed_distances(z[sample]), method="complete"), k, criterion="maxclust")
    return sample_labels[_nearest(z.astype(np.float32), z[sample].astype(np.float32))]


def _nearest(points: np.ndarray, references: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """Index of the nearest reference row (Euclidean) for every point, in chunks."""
    ref_sq = np.einsum("ij,ij->i", references, references)
    out = np.empty(len(points), dtype=np.int64)
    for start in range(0, len(points), chunk):
        out[start:start + chunk] = (ref_sq[None, :] - 2.0 * (points[start:start + chunk] @ references.T)).argmin(axis=1)
    return out


def _kmeans_pp(z: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Greedy k-means++ seeding (Arthur & Vassilvitskii 2007): of 2 + log k candidates drawn with probability ~
    squared distance to the nearest centre, keep the one that lowers the total squared distance most."""
    sq = np.einsum("ij,ij->i", z, z)
    centres = [z[rng.integers(len(z))]]
    closest = np.maximum(sq - 2.0 * (z @ centres[0]) + centres[0] @ centres[0], 0.0)
    trials = 2 + int(np.log(k))
    for _ in range(1, k):
        total = float(closest.sum(dtype=np.float64))
        picks = rng.choice(len(z), size=trials, p=closest / total) if total > 0 else rng.integers(len(z), size=trials)
        candidates = np.maximum(sq[None, :] - 2.0 * (z[picks] @ z.T) + sq[picks, None], 0.0)
        candidates = np.minimum(candidates, closest[None, :])
        best = int(candidates.sum(axis=1, dtype=np.float64).argmin())
        centres.append(z[picks[best]])
        closest = candidates[best]
    return np.array(centres, dtype=z.dtype)


def _lloyd(z: np.ndarray, centres: np.ndarray, iterations: int = 60, tol: float = 1e-4) -> tuple[np.ndarray, float]:
    """Lloyd iterations from the given centres until the inertia stops falling; labels (0-based) and inertia."""
    sq, k = np.einsum("ij,ij->i", z, z), len(centres)
    previous = np.inf
    for _ in range(iterations):
        dist = sq[:, None] - 2.0 * (z @ centres.T) + np.einsum("ij,ij->i", centres, centres)[None, :]
        labels = dist.argmin(axis=1)
        inertia = float(dist[np.arange(len(z)), labels].sum(dtype=np.float64))
        onehot = np.zeros((k, len(z)), dtype=z.dtype)
        onehot[labels, np.arange(len(z))] = 1
        counts = onehot.sum(axis=1)
        filled = counts > 0
        centres[filled] = (onehot[filled] @ z) / counts[filled, None]
        if previous - inertia <= tol * max(abs(inertia), 1e-12):
            break
        previous = inertia
    return labels, inertia


def kmeans_clusters(a: np.ndarray, b: np.ndarray, k: int = 10, seed: int = 0, restarts: int = 1) -> np.ndarray:
    """Default method: labels 1..k of k-means (greedy k-means++, best of `restarts`) on the pair vectors."""
    z = np.concatenate([normalize(a, "first modality"), normalize(b, "second modality")], axis=1)
    z = (z / np.sqrt(2.0)).astype(np.float32)
    _check_k(k, len(z))
    rng = np.random.default_rng(seed)
    best = min((_lloyd(z, _kmeans_pp(z, int(k), rng)) for _ in range(restarts)), key=lambda r: r[1])
    order = np.argsort(np.bincount(best[0], minlength=k))[::-1]
    return np.argsort(order)[best[0]] + 1


def _top_ngrams(texts: list[str], top: int) -> list[str]:
    """The `top` most frequent distinct n-grams of the texts (Amumo's ordering and substring rule).

    A gram is dropped when a longer gram with at least its count contains it (Amumo scans the later grams of its
    (length, count) order; a later gram of equal length cannot contain a different one). Candidates are visited in
    the final order (count descending, then length, then vocabulary order) until `top` survive; the containment
    test is one substring count over the joined grams with at least the candidate's count (its own entry is the
    one occurrence that does not count)."""
    from sklearn.feature_extraction.text import CountVectorizer

    vectorizer = CountVectorizer(ngram_range=(1, 77), stop_words="english")
    try:
        counts = np.asarray(vectorizer.fit_transform(texts).sum(axis=0)).ravel()
    except ValueError:  # only stop words or empty captions
        return []
    grams = sorted(((int(counts[i]), text) for text, i in vectorizer.vocabulary_.items()),
                   key=lambda g: (len(g[1]), g[0]))
    ranked = sorted(grams, key=lambda g: -g[0])
    found, joined, included = [], "", 0
    for count, text in ranked:
        while included < len(ranked) and ranked[included][0] >= count:
            joined += "\n" + ranked[included][1]
            included += 1
        if joined.count(text) < 2:
            found.append(text)
            if len(found) == top:
                break
    return found


def ngram_labels(texts: list[str], labels: np.ndarray, top: int = 2) -> list[str]:
    """One label per cluster (ascending cluster id): its captions' top n-grams joined with " | "."""
    labels = np.asarray(labels)
    if len(texts) != len(labels):
        raise GapscopeError(f"cluster labels: {len(texts)} texts for {len(labels)} items")
    return [" | ".join(_top_ngrams([texts[i] for i in np.flatnonzero(labels == c)], top)) for c in np.unique(labels)]


def block_modalities(block: str, modalities: list[str]) -> tuple[str, str]:
    """The (rows, columns) modalities of a block name such as "text_image"."""
    for rows in modalities:
        if block.startswith(rows + "_") and block[len(rows) + 1:] in modalities:
            return rows, block[len(rows) + 1:]
    raise GapscopeError(f"clustering: block {block!r} is not <row modality>_<column modality> of "
                        f"{', '.join(modalities)}")


def kmeans_points(z: np.ndarray, k: int, seed: int = 0) -> np.ndarray:
    """Labels 0..k-1 of k-means (greedy k-means++, fixed seed, the Lloyd iterations above) on the rows of z as given."""
    z = np.asarray(z)
    _check_k(k, len(z))
    return _lloyd(z, _kmeans_pp(z, int(k), np.random.default_rng(seed)))[0]
