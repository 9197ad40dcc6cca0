"""The built-in demo models (`builtin:demo-clip`, `builtin:demo-cyclip`, `builtin:demo-cloob`).

Each is the frozen MiniLM text tower and EfficientNet-Lite0 image tower (ingest/demo/towers.py) followed by the
projection heads trained by `gapscope train-heads` (CLIP InfoNCE, CyCLIP, CLOOB objectives; ingest/demo/train.py),
read from data/heads/<name>.safetensors. `pretrained`: None takes those heads, a path takes a head file written
by `train-heads` elsewhere, "none" builds randomly initialised heads (seeded) of the default shape.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from dashboard.app_files import heads_dir
from dashboard.errors import GapscopeError

NAMES = ("demo-clip", "demo-cyclip", "demo-cloob")


def known_names() -> list[str]:
    """The demo models."""
    return list(NAMES)


def heads_path(name: str, pretrained: str | None) -> Path:
    """The head file of a model: data/heads/<name>.safetensors, or the path given as `pretrained`."""
    if name not in NAMES:
        raise GapscopeError(f"model builtin:{name}: unknown (known: {', '.join(NAMES)})")
    return heads_dir() / f"{name}.safetensors" if pretrained is None else Path(pretrained).expanduser()


def _heads(name: str, pretrained: str | None) -> tuple[Any, dict[str, Any], str]:
    """(heads, config, source) for a model name and `pretrained` value."""
    import torch

    from ingest.demo import towers
    from ingest.demo.heads import DemoHeads, load_heads
    from ingest.demo.train import TrainConfig, initial_log_scale

    if pretrained == "none":
        torch.manual_seed(0)
        config = TrainConfig()
        objective = name.removeprefix("demo-")
        heads = DemoHeads(towers.IMAGE_DIM, towers.TEXT_DIM, config.dim, config.hidden, initial_log_scale(objective))
        return heads.eval(), {"dim": config.dim, "logit_scale": float(heads.log_scale.detach().exp())}, f"builtin:{name} pretrained=none"
    path = heads_path(name, pretrained)
    heads, config = load_heads(path)
    return heads, config, f"builtin:{name} heads={path}"


def load(name: str, pretrained: str | None, device: str, precision: str) -> Any:
    """A demo model as an image-text Encoder."""
    import torch

    from ingest.demo import towers
    from ingest.models import runtime

    heads, config, source = _heads(name, pretrained)
    torch_device = runtime.resolve_device(device)
    heads = heads.to(torch_device)
    text_tower = towers.TextTower(str(torch_device))
    image_tower = towers.ImageTower(str(torch_device))
    steps = {
        "image": runtime.Step(prepare=lambda image: towers.image_tensor(runtime.require_image(image)),
                              embed=lambda pixels: heads.embed("image", image_tower.pooled(pixels).float())),
        "text": runtime.Step(prepare=runtime.require_text, collate=list,
                             embed=lambda texts: heads.embed("text", text_tower.tensor(texts))),
    }
    model = torch.nn.ModuleDict({"heads": heads, "image": image_tower.net, "text": text_tower.model})
    return runtime.TorchEncoder(name=name, family="builtin", source=source, dim=int(config["dim"]), model=model,
                                logit_scale=float(config["logit_scale"]), device=torch_device,
                                dtype=runtime.autocast_dtype(torch_device, precision), steps=steps)
