"""SigLIP's pairwise sigmoid loss (Zhai et al., "Sigmoid Loss for Language Image Pre-Training", ICCV 2023).

Rows a_i, b_i are L2-normalised; logits L_ij = t * a_i . b_j + c, with t the logit scale (exp of the learnt log
temperature) and c the learnt logit bias (SigLIP starts from t = 10, c = -10). Every pair is a binary problem with
label z_ij = 1 on the diagonal and -1 elsewhere; per batch of n pairs the loss is the paper's Algorithm 1
(open_clip's SigLipLoss):
    loss = -(1/n) sum_i sum_j log sigmoid(z_ij L_ij) = (1/n) [sum_ij softplus(L_ij) - sum_i L_ii],
since softplus(-x) = softplus(x) - x turns the n positive terms into corrections of the all-negative sum.
Batches as for the contrastive losses (analysis.loss): None takes all pairs at once, otherwise consecutive batches
of batch_size pairs, the remainder dropped, and the mean over batches. Rows are taken in chunks (no N x N matrix)
and the sums kept in float64.
"""

import numpy as np

from dashboard.analysis.similarity import normalize
from dashboard.errors import GapscopeError

CHUNK_CELLS = 4_000_000  # logits computed at once (rows x columns)


def batch_sigmoid_loss(x: np.ndarray, y: np.ndarray, scale: float, bias: float) -> float:
    """The sigmoid loss of one batch of normalised pairs (x_i, y_i)."""
    n = len(x)
    rows = max(1, CHUNK_CELLS // max(n, 1))
    total = 0.0
    for start in range(0, n, rows):
        logits = scale * (x[start:start + rows] @ y.T) + bias
        total += float(np.logaddexp(0.0, logits, dtype=np.float64).sum())
    positives = scale * np.einsum("ij,ij->i", x, y, dtype=np.float64) + bias
    return (total - float(positives.sum())) / n


def sigmoid_loss(a: np.ndarray, b: np.ndarray, scale: float, bias: float, batch_size: int | None = None) -> float:
    """Mean SigLIP sigmoid loss over consecutive batches (remainder dropped; None = one batch of all pairs)."""
    x, y = normalize(a, "first modality"), normalize(b, "second modality")
    if x.shape != y.shape:
        raise GapscopeError(f"sigmoid loss: paired blocks differ in shape ({x.shape} vs {y.shape})")
    if not np.isfinite(scale) or scale <= 0 or not np.isfinite(bias):
        raise GapscopeError(f"sigmoid loss: needs a positive logit scale and a finite bias, got {scale}, {bias}")
    size = len(x) if batch_size is None else int(batch_size)
    if size < 1 or size > len(x):
        raise GapscopeError(f"sigmoid loss: batch size {batch_size} does not fit {len(x)} pairs")
    starts = range(0, len(x) - size + 1, size)
    return float(np.mean([batch_sigmoid_loss(x[s:s + size], y[s:s + size], float(scale), float(bias))
                          for s in starts]))
