"""A 1-D ordering of items by the first principal component of their embeddings, so that runs of neighbouring
items mean something when a large similarity matrix is cut into blocks (dashboard/figures/heatmap.py).

The direction v is the leading eigenvector of the covariance of all modalities' rows stacked, fitted on at most
`fit_rows` evenly spaced items (a fixed choice, so the order does not depend on a seed), in float64: power
iteration on the d x d scatter matrix from a fixed start (all ones) until the direction moves less than 1e-12,
at most 1,000 steps; its sign is fixed so that its largest-magnitude component is positive. An item's score is
the mean over modalities of (x_m - mean) . v, computed in float64 in chunks of CHUNK rows (memory bounded at any
N), rounded to a grid of 2^-GRID_BITS, and items are sorted by that with a stable sort: ties keep item order,
and items whose scores differ only in the BLAS kernel's rounding (identical rows at positions a kernel treats
differently, a few ulps apart) tie exactly instead of being ordered by that rounding. Projecting on the top principal axis is the classical 1-D seriation by PCA (Friendly 2002, "Corrgrams:
exploratory displays for correlation matrices", The American Statistician 56(4), which orders variables by the
angle of their loadings on the first principal components).
"""
from __future__ import annotations

import numpy as np

FIT_ROWS = 2048
CHUNK = 8192
GRID_BITS = 32  # scores are at most a few units in size: far above float64's resolution, below any real spread


def _leading_axis(scatter: np.ndarray) -> np.ndarray:
    """Unit leading eigenvector of a symmetric positive semi-definite matrix, by power iteration."""
    axis = np.ones(len(scatter)) / np.sqrt(len(scatter))
    for _ in range(1000):
        step = scatter @ axis
        norm = np.linalg.norm(step)
        if norm == 0:
            return axis
        step /= norm
        if np.linalg.norm(step - axis) < 1e-12:
            return step
        axis = step
    return axis


def principal_direction(blocks: list[np.ndarray], fit_rows: int = FIT_ROWS) -> tuple[np.ndarray, np.ndarray]:
    """(mean, unit leading principal axis) of the stacked rows of `blocks`, fitted on evenly spaced items."""
    n = len(blocks[0])
    rows = np.unique(np.linspace(0, n - 1, min(n, fit_rows)).round().astype(np.int64))
    stacked = np.concatenate([np.asarray(b[rows], dtype=np.float64) for b in blocks])
    mean = stacked.mean(axis=0)
    centred = stacked - mean
    axis = _leading_axis(centred.T @ centred)
    return mean, axis * (1.0 if axis[int(np.argmax(np.abs(axis)))] >= 0 else -1.0)


def principal_order(blocks: list[np.ndarray], fit_rows: int = FIT_ROWS) -> np.ndarray:
    """Item indices sorted by their mean score on the first principal axis of all modalities."""
    mean, axis = principal_direction(blocks, fit_rows)
    n = len(blocks[0])
    score = np.zeros(n)
    for start in range(0, n, CHUNK):
        for b in blocks:
            score[start:start + CHUNK] += (np.asarray(b[start:start + CHUNK], dtype=np.float64) - mean) @ axis
    return np.argsort(np.rint(score / len(blocks) * 2.0 ** GRID_BITS), kind="stable")
