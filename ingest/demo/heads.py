"""Projection heads of the demo models: frozen tower features -> a shared L2-normalised space, saved as safetensors.

A head is a 2-layer MLP (Linear, GELU, Linear) or, with hidden=0, one Linear map. A model file
`<name>.safetensors` holds both heads' weights and, in its metadata, the config: objective, dimensions, seed and
the logit scale (exp of the learned log for CLIP and CyCLIP, the fixed inverse temperature for CLOOB).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torch import nn

from dashboard.errors import GapscopeError


def head(in_dim: int, out_dim: int, hidden: int) -> nn.Module:
    """One modality's projection: Linear, or Linear-GELU-Linear with `hidden` units."""
    if hidden <= 0:
        return nn.Linear(in_dim, out_dim)
    return nn.Sequential(nn.Linear(in_dim, hidden), nn.GELU(), nn.Linear(hidden, out_dim))


class DemoHeads(nn.Module):
    """The image and text heads of one demo model plus its (learned or fixed) log logit scale."""

    def __init__(self, image_dim: int, text_dim: int, out_dim: int, hidden: int, log_scale: float) -> None:
        super().__init__()
        self.image = head(image_dim, out_dim, hidden)
        self.text = head(text_dim, out_dim, hidden)
        self.log_scale = nn.Parameter(torch.tensor(float(log_scale)))

    def embed(self, modality: str, features: torch.Tensor) -> torch.Tensor:
        """L2-normalised embeddings of one modality's tower features."""
        projection = self.image if modality == "image" else self.text
        return nn.functional.normalize(projection(features), dim=1)


def save_heads(path: Path, heads: DemoHeads, config: dict[str, Any]) -> None:
    """Write the heads and their config (JSON in the safetensors metadata)."""
    from safetensors.torch import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().contiguous().cpu() for k, v in heads.state_dict().items()}
    save_file(tensors, str(path), metadata={"config": json.dumps(config, sort_keys=True)})


def load_heads(path: Path) -> tuple[DemoHeads, dict[str, Any]]:
    """Read heads written by `save_heads`; a missing or foreign file is a GapscopeError."""
    from safetensors import SafetensorError, safe_open

    path = Path(path)
    if not path.is_file():
        raise GapscopeError(f"{path}: no head weights (run `gapscope train-heads`)")
    try:
        with safe_open(str(path), framework="pt") as handle:
            config = json.loads((handle.metadata() or {})["config"])
            tensors = {k: handle.get_tensor(k) for k in handle.keys()}
        heads = DemoHeads(config["image_dim"], config["text_dim"], config["dim"], config["hidden"], 0.0)
        heads.load_state_dict(tensors)
    except (KeyError, ValueError, RuntimeError, OSError, SafetensorError) as exc:
        raise GapscopeError(f"{path}: not a demo head file ({str(exc).splitlines()[0]})") from exc
    return heads.eval(), config
