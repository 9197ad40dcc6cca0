"""Contrastive losses on paired embeddings, numerically stable (log-sum-exp), batched without N x N memory.

Rows a_i, b_i are L2-normalised; logits L = s * A B^T with s the model's logit scale (exp of the learnt log
temperature: 100 for CLIP). Per batch of n pairs:
- a_to_b ("image_to_text" in the CLI, i.e. first block to second): (1/n) sum_i [logsumexp_j L_ij - L_ii],
  the cross-entropy with the diagonal as targets. This is Amumo's `calculate_val_loss` (amumo/utils.py), whose
  "symmetric" average computes the same direction twice, so its value is the a_to_b loss.
- b_to_a ("text_to_image"): the same on L^T.
- infonce: (a_to_b + b_to_a) / 2, CLIP's symmetric objective (Radford et al. 2021).
- infoloob: InfoLOOB, the leave-one-out bound of CLOOB (Fuerst et al., NeurIPS 2022): the positive is removed from
  the denominator, (1/n) sum_i [logsumexp_{j != i} L_ij - L_ii], averaged over both directions: the negative mean
  log odds of the positives, the rescaling of crowsonkb's cloob-training (ml-jku/cloob's training code multiplies
  by tau = 1/s and sums the directions, and applies it to Hopfield-retrieved embeddings; here it is applied to the
  embeddings themselves so that it compares directly with InfoNCE).
All log-sum-exps come from one chunked pass over L (pairwise.scan: rows and columns at once, no N x N matrix,
exact float64 positives). Batches: batch_size None means all pairs at once; otherwise consecutive batches of
batch_size pairs, the remainder dropped, and the mean over batches (Amumo uses 50); batches of at most
SMALL_BATCH pairs are computed together in one batched product (the mean over equal batches is the mean over
all their rows).
"""

import numpy as np
from scipy.special import logsumexp

from dashboard.analysis.pairwise import Scan, scan
from dashboard.analysis.similarity import normalize
from dashboard.errors import GapscopeError

KINDS = ("infonce", "image_to_text", "text_to_image", "infoloob")
SMALL_BATCH = 256  # batches up to this size are computed all at once (N x size logits)


def loss_from_scan(result: Scan, kind: str) -> float:
    """The loss of one batch from its logit statistics."""
    leave_one_out = kind == "infoloob"
    a_to_b = float(np.mean(result.row_lse(leave_one_out) - result.diagonal))
    b_to_a = float(np.mean(result.col_lse(leave_one_out) - result.diagonal))
    if kind == "image_to_text":
        return a_to_b
    if kind == "text_to_image":
        return b_to_a
    return 0.5 * (a_to_b + b_to_a)


def loss_terms(result: Scan, kind: str) -> np.ndarray:
    """Each pair's term of the loss: their mean is loss_from_scan (negatives fixed to the batch of the scan)."""
    leave_one_out = kind == "infoloob"
    a_to_b, b_to_a = result.row_lse(leave_one_out) - result.diagonal, result.col_lse(leave_one_out) - result.diagonal
    if kind == "image_to_text":
        return a_to_b
    if kind == "text_to_image":
        return b_to_a
    return 0.5 * (a_to_b + b_to_a)


def batch_loss_terms(a: np.ndarray, b: np.ndarray, kind: str, scale: float, batch_size: int) -> np.ndarray:
    """Each pair's loss term within its consecutive batch; NaN for the dropped remainder."""
    x, y = normalize(a, "first modality"), normalize(b, "second modality")
    size = check_options(kind, scale, batch_size, len(x))
    terms = np.full(len(x), np.nan)
    if size <= SMALL_BATCH < len(x):
        used = (len(x) // size) * size
        terms[:used] = loss_terms(_small_batches(x, y, size, float(scale)), kind)
        return terms
    for i in range(0, len(x) - size + 1, size):
        terms[i:i + size] = loss_terms(scan(x[i:i + size], y[i:i + size], float(scale)), kind)
    return terms


def check_options(kind: str, scale: float, batch_size: int | None, n: int) -> int:
    """Validate the loss options for n pairs; the batch size to use."""
    if kind not in KINDS:
        raise GapscopeError(f"loss: unknown kind {kind!r} (choose from {', '.join(KINDS)})")
    if not np.isfinite(scale) or scale <= 0:
        raise GapscopeError(f"loss: logit scale must be a positive number, got {scale}")
    size = n if batch_size is None else int(batch_size)
    if size < 1 or size > n:
        raise GapscopeError(f"loss: batch size {batch_size} does not fit {n} pairs")
    if size < 2:
        raise GapscopeError(f"loss: batch size {size} has no negatives (a contrastive loss needs at least 2 pairs "
                            "per batch)")
    return size


def _small_batches(x: np.ndarray, y: np.ndarray, size: int, scale: float) -> Scan:
    """Statistics of every consecutive batch of `size` pairs at once (one batched product), rows flattened."""
    batches = len(x) // size
    bx, by = x[:batches * size].reshape(batches, size, -1), y[:batches * size].reshape(batches, size, -1)
    logits = scale * np.einsum("bik,bjk->bij", bx, by)
    diagonal = scale * np.einsum("bij,bij->bi", bx, by, dtype=np.float64)
    steps = np.arange(size)
    logits[:, steps, steps] = -np.inf
    with np.errstate(divide="ignore"):
        rows, cols = logsumexp(logits, axis=2), logsumexp(logits, axis=1)
    ranks = np.zeros(batches * size, dtype=np.int64)
    return Scan(diagonal.ravel(), rows.ravel().astype(np.float64), cols.ravel().astype(np.float64), ranks, ranks)


def contrastive_loss(a: np.ndarray, b: np.ndarray, kind: str = "infonce", scale: float = 1.0,
                     batch_size: int | None = None) -> float:
    """Mean contrastive loss over consecutive batches (remainder dropped; None = one batch of all pairs)."""
    x, y = normalize(a, "first modality"), normalize(b, "second modality")
    if x.shape != y.shape:
        raise GapscopeError(f"loss: paired blocks differ in shape ({x.shape} vs {y.shape})")
    size = check_options(kind, scale, batch_size, len(x))
    if size <= SMALL_BATCH < len(x):
        return loss_from_scan(_small_batches(x, y, size, float(scale)), kind)
    starts = range(0, len(x) - size + 1, size)
    return float(np.mean([loss_from_scan(scan(x[i:i + size], y[i:i + size], float(scale)), kind) for i in starts]))
