"""Contrastive losses on paired embeddings, numerically stable (log-sum-exp), batched without N x N memory.

Rows a_i, b_i are L2-normalised; logits L = s * A B^T with s the model's logit scale (exp of the learnt log
temperature: 100 for CLIP). Per batch of n pairs:
- a_to_b ("image_to_text" in the CLI, i.e. first block to second): (1/n) sum_i [logsumexp_j L_ij - L_ii],
  the cross-entropy with the diagonal as targets. This is Amumo's `calculate_val_loss` (amumo/utils.py), whose
  "symmetric" average computes the same direction twice, so its value is the a_to_b loss.
- b_to_a ("text_to_image"): the same on L^T.
- infonce: (a_to_b + b_to_a) / 2, CLIP's symmetric objective (Radford et al. 2021).
- infoloob: InfoLOOB, the leave-one-out bound of CLOOB (Fuerst et al., NeurIPS 2022): the positive is removed from
  the denominator, (1/n) sum_i [logsumexp_{j != i} L_ij - L_ii], averaged over both directions. (CLOOB applies it
  to Hopfield-retrieved embeddings; here it is applied to the embeddings themselves.)
All logits come from one chunked pass over L (row and column log-sum-exp at once, no N x N matrix); the
positive logits are exact (float64). Batches: batch_size None means all pairs at once; otherwise consecutive batches of batch_size pairs, the remainder
dropped, and the mean over batches (Amumo uses 50).
"""

import numpy as np

from dashboard.analysis.similarity import normalize
from dashboard.errors import GapscopeError

KINDS = ("infonce", "image_to_text", "text_to_image", "infoloob")
_CHUNK = 2048


def _lse_update(m: np.ndarray, s: np.ndarray, block: np.ndarray, axis: int) -> None:
    """Fold block into the running log-sum-exp (max m, scaled sum s) along axis, in place."""
    new = np.maximum(m, block.max(axis=axis))
    s *= np.exp(m - new)
    s += np.exp(block - np.expand_dims(new, axis).astype(block.dtype)).sum(axis=axis, dtype=np.float64)
    m[...] = new


def _logsumexps(x: np.ndarray, y: np.ndarray, scale: float, leave_one_out: bool):
    """Row and column log-sum-exp of L = scale * x y^T and its diagonal, in one chunked pass over L."""
    n = len(x)
    diagonal = scale * np.einsum("ij,ij->i", x, y, dtype=np.float64)
    row = np.empty(n)
    col_max, col_sum = np.full(n, -np.inf), np.zeros(n)
    for start in range(0, n, _CHUNK):
        block = x[start:start + _CHUNK] @ y.T
        block *= block.dtype.type(scale)
        rows = np.arange(block.shape[0])
        block[rows, rows + start] = -np.inf if leave_one_out else diagonal[rows + start]
        m, s = np.full(len(rows), -np.inf), np.zeros(len(rows))
        _lse_update(m, s, block, axis=1)
        row[start:start + len(rows)] = m + np.log(s)
        _lse_update(col_max, col_sum, block, axis=0)
    return row, col_max + np.log(col_sum), diagonal


def _batch_loss(x: np.ndarray, y: np.ndarray, kind: str, scale: float) -> float:
    """Loss of one batch of aligned pairs (one pass over its logits)."""
    row, col, diagonal = _logsumexps(x, y, scale, kind == "infoloob")
    a_to_b, b_to_a = float(np.mean(row - diagonal)), float(np.mean(col - diagonal))
    if kind == "image_to_text":
        return a_to_b
    if kind == "text_to_image":
        return b_to_a
    return 0.5 * (a_to_b + b_to_a)


def contrastive_loss(a: np.ndarray, b: np.ndarray, kind: str = "infonce", scale: float = 1.0,
                     batch_size: int | None = None) -> float:
    """Mean contrastive loss over consecutive batches (remainder dropped; None = one batch of all pairs)."""
    if kind not in KINDS:
        raise GapscopeError(f"loss: unknown kind {kind!r} (choose from {', '.join(KINDS)})")
    x, y = normalize(a, "first modality"), normalize(b, "second modality")
    if x.shape != y.shape:
        raise GapscopeError(f"loss: paired blocks differ in shape ({x.shape} vs {y.shape})")
    if not np.isfinite(scale) or scale <= 0:
        raise GapscopeError(f"loss: logit scale must be a positive number, got {scale}")
    n = len(x)
    size = n if batch_size is None else int(batch_size)
    if size < 1 or size > n or (kind == "infoloob" and size < 2):
        raise GapscopeError(f"loss: batch size {batch_size} does not fit {n} pairs")
    batches = [_batch_loss(x[i:i + size], y[i:i + size], kind, float(scale)) for i in range(0, n - size + 1, size)]
    return float(np.mean(batches))
