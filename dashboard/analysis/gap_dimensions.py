"""Where the gap lives: the share of ||g||^2 carried by each embedding dimension and by each principal direction,
the smallest sets carrying half and 90 % of it, and the ablation curve that removes the top gap dimensions.

With L2-normalised rows A, B and the gap vector g = mean(A) - mean(B) (Liang et al., NeurIPS 2022):
- dimension j carries g_j^2 / ||g||^2 (the shares sum to 1);
- with u_1..u_d the principal directions of the pooled rows [A; B] (eigenvectors of their covariance, largest
  variance first; for equally many rows it is (S_A + S_B) / 2 + (mu_A - mu_B)(mu_A - mu_B)' / 4, from the two
  modalities' own covariances, which the Fréchet split computes anyway), direction k carries (u_k . g)^2 / ||g||^2
  (they sum to 1 as well, U being orthonormal);
- the smallest set of dimensions (or directions) carrying a share p of ||g||^2 takes them by decreasing share
  until the cumulative share reaches p; its size is reported for p = 0.5 and 0.9;
- ablation (in the spirit of Schrodi et al., "Two effects, one trigger", ICLR 2025, which find the gap carried by
  a few dimensions): zero the k dimensions with the largest gap share, renormalise every row, and recompute the
  gap distance (all pairs) and the InfoNCE loss and Recall@1/5/10 both ways (pairwise.scan, the same pass as the
  loss and retrieval modules) on an evaluation sample of at most EVAL_PAIRS seeded pairs (so that the whole curve
  costs a few products of EVAL_PAIRS^2 entries: its loss and recalls compare along the curve, not with the
  full-set figures), for k = 0, 1, 2, 4, ... (powers of two below d). The gap over all pairs needs no copy of the
  embeddings: a unit row without the set R has norm sqrt(1 - sum_{j in R} x_j^2), so the mean of the renormalised
  rows is one weighted sum of the rows with weights 1 / sqrt(1 - removed mass), R zeroed.
"""

import numpy as np

from dashboard.analysis.evaluation import loss_and_recall, rownorm, seeded_rows
from dashboard.analysis.frechet import moments
from dashboard.errors import GapscopeError

LEVELS = (0.5, 0.9)
TOP = 20


def shares(values: np.ndarray) -> np.ndarray:
    """values_j^2 / sum values^2 (all zeros for a zero vector)."""
    squared = np.asarray(values, dtype=np.float64) ** 2
    total = squared.sum()
    return squared / total if total > 0 else squared


def smallest_set(share: np.ndarray, level: float) -> np.ndarray:
    """Indices (largest share first) of the fewest entries whose shares sum to at least `level`."""
    order = np.argsort(-share, kind="stable")
    cumulative = np.cumsum(share[order])
    count = int(np.searchsorted(cumulative, level - 1e-12) + 1) if cumulative[-1] > 0 else 0
    return order[:min(count, len(order))]


def principal_directions(a: np.ndarray, b: np.ndarray, given: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (descending) and eigenvectors (columns) of the covariance of the pooled rows of two equally large
    clouds, (S_A + S_B) / 2 + (mu_A - mu_B)(mu_A - mu_B)' / 4, from their frechet.moments (computed when not given)."""
    given = given or moments(a, b)
    delta = given["mean_a"] - given["mean_b"]
    pooled = 0.5 * (given["cov_a"] + given["cov_b"]) + 0.25 * np.outer(delta, delta)
    values, vectors = np.linalg.eigh(pooled)
    return values[::-1], vectors[:, ::-1]


def _set_report(share: np.ndarray, top: int) -> dict:
    """Top entries by share and the sizes of the smallest sets for each level."""
    order = np.argsort(-share, kind="stable")[:top]
    out = {"top": [{"index": int(i), "share": float(share[i])} for i in order]}
    for level in LEVELS:
        out[f"count_{int(level * 100)}"] = int(len(smallest_set(share, level)))
    return out


def gap_location(a: np.ndarray, b: np.ndarray, top: int = TOP, keep: dict | None = None,
                 given: dict | None = None) -> dict:
    """Per-dimension and per-principal-direction shares of ||g||^2 of L2-normalised rows a, b (`keep`, if given,
    receives the principal directions; `given`: their frechet.moments, computed when not given)."""
    if a.shape != b.shape or a.ndim != 2:
        raise GapscopeError(f"gap dimensions: paired blocks differ in shape ({a.shape} vs {b.shape})")
    g = a.mean(axis=0, dtype=np.float64) - b.mean(axis=0, dtype=np.float64)
    variances, directions = principal_directions(a, b, given)
    if keep is not None:
        keep["directions"] = directions
    by_direction = shares(directions.T @ g)
    report = {"dimensions": _set_report(shares(g), top), "directions": _set_report(by_direction, top)}
    report["directions"]["variance_share"] = [float(v) for v in (variances / max(variances.sum(), 1e-300))[:top]]
    return report


def ablation_ks(d: int) -> list[int]:
    """k = 0, 1, 2, 4, ... (powers of two below d)."""
    return [0] + [1 << i for i in range(max(d - 1, 1).bit_length()) if (1 << i) < d]


def _without(x: np.ndarray, removed: np.ndarray) -> np.ndarray:
    """Rows with the removed dimensions zeroed, renormalised (a row with nothing left stays zero)."""
    y = x.copy()
    y[:, removed] = 0
    return rownorm(y)


def renormalising_weights(removed_sq: np.ndarray) -> np.ndarray:
    """1 / sqrt(1 - removed squared mass) per unit row (0 for a row with nothing left)."""
    left = 1.0 - removed_sq
    return np.where(left > 1e-12, 1.0 / np.sqrt(np.clip(left, 1e-12, None)), 0.0)


def _mean_without(x: np.ndarray, removed: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Mean of the renormalised rows of unit-norm x without the removed dimensions, from the rows' renormalising
    weights (no copy of x): sum_i w_i x_i / n, removed dimensions zeroed."""
    mean = (weights @ np.asarray(x, np.float64)) / len(x)
    mean[removed] = 0
    return mean


def ablation(a: np.ndarray, b: np.ndarray, scale: float, seed: int = 0, keep: dict | None = None) -> dict:
    """Gap, InfoNCE loss and Recall@K both ways after removing the top-k gap dimensions, for every k; `keep` (if
    given) receives the evaluation rows, the gap order of the dimensions, per k the per-pair terms
    (evaluation.loss_and_recall) and, per modality, the (n, len(ks)) renormalising weights of every row."""
    g = a.mean(axis=0, dtype=np.float64) - b.mean(axis=0, dtype=np.float64)
    order, rows = np.argsort(-shares(g), kind="stable"), seeded_rows(len(a), seed)
    curve = {"k": [], "gap": [], "loss": [], "a_to_b": [], "b_to_a": [], "eval_pairs": int(len(rows))}
    ks = ablation_ks(a.shape[1])
    mass = [np.cumsum(np.square(x[:, order[:ks[-1]]], dtype=np.float64), axis=1) for x in (a, b)]
    terms = [] if keep is None else keep.setdefault("terms", [])
    weights = [np.stack([renormalising_weights(m[:, k - 1] if k else np.zeros(len(a))) for k in ks], axis=1)
               for m in mass]
    if keep is not None:
        keep |= {"rows": rows, "order": order, "weights": weights}
    for column, k in enumerate(ks):
        removed = order[:k]
        means = [_mean_without(x, removed, w[:, column]) for x, w in zip((a, b), weights)]
        terms.append({})
        figures = loss_and_recall(_without(a[rows], removed), _without(b[rows], removed), scale, terms[-1])
        curve["k"].append(k)
        curve["gap"].append(float(np.linalg.norm(means[0] - means[1])))
        for name in ("loss", "a_to_b", "b_to_a"):
            curve[name].append(figures[name])
    return curve
