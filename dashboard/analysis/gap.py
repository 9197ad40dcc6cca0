"""Modality gap (Liang et al., "Mind the Gap", NeurIPS 2022; as computed by Amumo, amumo/utils.py).

With L2-normalised embeddings A, B (rows), the gap vector is g = mean(A) - mean(B) and the gap distance is
||g||_2, the Euclidean distance between the two modality centroids.
"""

from itertools import combinations

import numpy as np

from dashboard.analysis.similarity import normalize
from dashboard.errors import GapscopeError


def _centroid(x: np.ndarray, name: str) -> np.ndarray:
    """Mean of the L2-normalised rows, in float64."""
    return normalize(x, name).mean(axis=0, dtype=np.float64)


def gap_vector(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """g = mean(normalise(a)) - mean(normalise(b))."""
    if np.shape(a)[-1] != np.shape(b)[-1]:
        raise GapscopeError(f"gap: dimensions differ ({np.shape(a)[-1]} vs {np.shape(b)[-1]})")
    return _centroid(a, "first modality") - _centroid(b, "second modality")


def gap_distance(a: np.ndarray, b: np.ndarray) -> float:
    """||mean(normalise(a)) - mean(normalise(b))||_2."""
    return float(np.linalg.norm(gap_vector(a, b)))


def gap_report(vectors: dict[str, np.ndarray]) -> dict:
    """For every pair "a_b" (in the dict's order): gap distance, centroid norms and the cosine of the centroids."""
    means = {m: _centroid(x, m) for m, x in vectors.items()}
    report = {}
    for a, b in combinations(means, 2):
        ca, cb = means[a], means[b]
        na, nb = float(np.linalg.norm(ca)), float(np.linalg.norm(cb))
        report[f"{a}_{b}"] = {
            "distance": float(np.linalg.norm(ca - cb)),
            "centroid_norm_a": na,
            "centroid_norm_b": nb,
            "centroid_cosine": float(ca @ cb / (na * nb)) if na > 0 and nb > 0 else 0.0,
        }
    return report
