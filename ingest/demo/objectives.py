"""The three contrastive objectives of the demo models, on a batch of L2-normalised pairs (x_i, y_i).

CLIP, InfoNCE with a learned temperature (Radford et al. 2021, "Learning Transferable Visual Models From Natural
Language Supervision", Fig. 3): logits L = exp(t) X Y^T, loss = (CE(L, diag) + CE(L^T, diag)) / 2, with t learned
(initialised at log(1/0.07), exp(t) clamped at 100).

CyCLIP (Goel et al. 2022, "CyCLIP: Cyclic Contrastive Language-Image Pretraining", Eq. 5 and the authors' code):
InfoNCE plus a cross-modal term ||X Y^T - Y X^T||^2 / N and an in-modal term ||X X^T - Y Y^T||^2 / N on cosine
similarities (sums over the N x N matrix divided by N, i.e. the code's mean times batch size), weights 0.25 each.

CLOOB (Fürst et al. 2022, "CLOOB: Modern Hopfield Networks with InfoLOOB Outperform CLIP", Eq. 6 and Alg. 1):
modern Hopfield retrieval U_z = norm(U softmax(beta U^T z)) from the stored image embeddings U = X and
V_z = norm(V softmax(beta V^T z)) from the stored text embeddings V = Y, queried by an image (z = x_i) or a text
(z = y_i); then InfoLOOB (leave-one-out bound: the positive is left out of the denominator's log-sum-exp) with a
fixed inverse temperature 1/tau = 30 on (U_x, U_y) and (V_y, V_x), each scaled by tau; beta = 14.3 (their CC run).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

CLIP_INIT_LOG_SCALE = math.log(1 / 0.07)
MAX_LOG_SCALE = math.log(100.0)
CYCLIP_IN_MODAL = 0.25
CYCLIP_CROSS_MODAL = 0.25
CLOOB_INV_TAU = 30.0
CLOOB_BETA = 14.3
OBJECTIVES = ("clip", "cyclip", "cloob")


def info_nce(x: torch.Tensor, y: torch.Tensor, log_scale: torch.Tensor) -> torch.Tensor:
    """Symmetric InfoNCE with logit scale exp(log_scale) (clamped at 100)."""
    logits = log_scale.clamp(max=MAX_LOG_SCALE).exp() * x @ y.T
    target = torch.arange(len(x), device=x.device)
    return (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2


def cyclip(x: torch.Tensor, y: torch.Tensor, log_scale: torch.Tensor) -> torch.Tensor:
    """InfoNCE plus CyCLIP's cross-modal and in-modal symmetry regularisers."""
    n = len(x)
    cross = x @ y.T
    cross_term = (cross - cross.T).square().sum() / n
    in_term = (x @ x.T - y @ y.T).square().sum() / n
    return info_nce(x, y, log_scale) + CYCLIP_CROSS_MODAL * cross_term + CYCLIP_IN_MODAL * in_term


def hopfield(state: torch.Tensor, stored: torch.Tensor, beta: float) -> torch.Tensor:
    """Modern Hopfield retrieval: for each state pattern, the normalised softmax-weighted mix of stored patterns."""
    retrieved = F.softmax(beta * state @ stored.T, dim=1) @ stored
    return F.normalize(retrieved, dim=1)


def info_loob(anchors: torch.Tensor, others: torch.Tensor, inv_tau: float) -> torch.Tensor:
    """InfoLOOB: -log of exp(positive) over the sum of exp(negatives) only, times tau."""
    logits = inv_tau * anchors @ others.T
    eye = torch.eye(len(anchors), dtype=torch.bool, device=anchors.device)
    positives = logits.diagonal()
    negatives = torch.logsumexp(logits.masked_fill(eye, float("-inf")), dim=1)
    return (negatives - positives).mean() / inv_tau


def cloob(x: torch.Tensor, y: torch.Tensor, inv_tau: float = CLOOB_INV_TAU, beta: float = CLOOB_BETA) -> torch.Tensor:
    """CLOOB: InfoLOOB on Hopfield-retrieved embeddings, fixed inverse temperature."""
    u_x, u_y = hopfield(x, x, beta), hopfield(y, x, beta)
    v_x, v_y = hopfield(x, y, beta), hopfield(y, y, beta)
    return info_loob(u_x, u_y, inv_tau) + info_loob(v_y, v_x, inv_tau)


def loss(objective: str, x: torch.Tensor, y: torch.Tensor, log_scale: torch.Tensor) -> torch.Tensor:
    """The named objective's loss on a batch of normalised pairs."""
    if objective == "clip":
        return info_nce(x, y, log_scale)
    if objective == "cyclip":
        return cyclip(x, y, log_scale)
    if objective == "cloob":
        return cloob(x, y)
    raise ValueError(f"objective {objective!r}: unknown (known: {', '.join(OBJECTIVES)})")
