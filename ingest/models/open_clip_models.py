"""open_clip models: any architecture name with a pretrained tag, a local checkpoint file, or random weights.

Covers OpenAI CLIP (tag "openai") and the LAION models (e.g. "laion2b_s34b_b79k"), and checkpoints trained with
OpenAI-style CLIP code such as CyCLIP's released RN50: a CLIP state dict, possibly under a "state_dict" key and with
DataParallel "module." prefixes, which open_clip's checkpoint loader unwraps. OpenAI-code models use QuickGELU, so
load those as "RN50-quickgelu" (open_clip does this itself for the "openai" tag). "local-dir:PATH" and "hf-hub:ID"
names are passed to open_clip as they are, with their own weights unless `pretrained` is a checkpoint path or none.
Image preprocessing stops at uint8 pixels on CPU; the scaling and normalisation of the pretrained transform run on
the device.
"""
from __future__ import annotations

from typing import Any

from dashboard.errors import GapscopeError

SCHEMAS = ("hf-hub:", "local-dir:")


def known_names() -> list[str]:
    """open_clip's architecture names."""
    import open_clip
    return sorted(open_clip.list_models())


def load(name: str, pretrained: str | None, device: str, precision: str) -> Any:
    """An open_clip model as an Encoder."""
    from ingest.models import runtime
    model, transform, tokenizer, source = build("open_clip", name, pretrained)
    return make_encoder("open_clip", name, source, model, transform, tokenizer, device, precision,
                        logit_scale=runtime.logit_scale_of(model.logit_scale, 1.0))


def build(family: str, name: str, pretrained: str | None) -> tuple[Any, Any, Any, str]:
    """(model, inference transform, tokenizer, source) of an open_clip name and a pretrained tag/path/none."""
    import open_clip
    from ingest.models import runtime
    what = f"{family}:{name}"
    if not name.startswith(SCHEMAS) and name not in open_clip.list_models():
        raise GapscopeError(f"model {what}: unknown open_clip model {name!r} (known: {', '.join(known_names())})")
    weights = _weights(what, name, pretrained)
    own = weights not in ("none", "file")
    try:
        model, _, transform = open_clip.create_model_and_transforms(name, pretrained=weights if own else None,
                                                                    load_weights=own)
    except (RuntimeError, OSError, ValueError) as error:
        raise GapscopeError(f"model {what}: cannot load weights {weights!r} ({str(error).splitlines()[0]})") from None
    if weights == "file":
        path = runtime.existing_path(what, pretrained)
        try:
            open_clip.load_checkpoint(model, str(path))
        except (RuntimeError, KeyError) as error:
            raise GapscopeError(f"model {what}: checkpoint {path} does not fit the architecture "
                                f"({str(error).splitlines()[0]})") from None
    source = f"{what} pretrained={pretrained if weights == 'file' else weights or 'from the name'}"
    return model.eval(), transform, open_clip.get_tokenizer(name), source


def _weights(what: str, name: str, pretrained: str | None) -> str:
    """'none', 'file' (a local checkpoint) or a known pretrained tag; None means the first tag of the model."""
    import open_clip
    from ingest.models import runtime
    if pretrained == "none":
        return "none"
    if pretrained is not None and runtime.looks_like_path(pretrained):
        runtime.existing_path(what, pretrained)
        return "file"
    if name.startswith(SCHEMAS):
        if pretrained is not None:
            raise GapscopeError(f"model {what}: takes its weights from the name; --pretrained can only be a "
                                f"checkpoint path or none, not {pretrained!r}")
        return ""
    tags = open_clip.list_pretrained_tags_by_model(name)
    if pretrained is None and not tags:
        raise GapscopeError(f"model {what}: no released weights; pass a checkpoint path or none")
    tag = tags[0] if pretrained is None else pretrained
    if tag not in tags:
        raise GapscopeError(f"model {what}: unknown pretrained tag {tag!r} (known: {', '.join(tags) or 'none'}; "
                            f"or a checkpoint path, or none)")
    return tag


def split_transform(what: str, transform: Any) -> tuple[Any, list[float], list[float]]:
    """The CPU part of an inference transform (up to ToTensor), and the mean and std of its Normalize."""
    from torchvision import transforms as T
    steps = list(transform.transforms)
    to_tensor = [i for i, step in enumerate(steps) if isinstance(step, T.ToTensor)]
    if not to_tensor or not isinstance(steps[-1], T.Normalize) or to_tensor[0] != len(steps) - 2:
        raise GapscopeError(f"model {what}: its image transform does not end in ToTensor, Normalize")
    return T.Compose(steps[:to_tensor[0]]), list(steps[-1].mean), list(steps[-1].std)


def make_encoder(family: str, name: str, source: str, model: Any, transform: Any, tokenizer: Any,
                 device: str, precision: str, logit_scale: float) -> Any:
    """An image-text Encoder over an open_clip-architecture model."""
    import torch
    from ingest.models import runtime
    what = f"{family}:{name}"
    torch_device = runtime.resolve_device(device)
    model = model.to(torch_device)
    cpu_transform, mean, std = split_transform(what, transform)
    mean_t, std_t = torch.tensor(mean, device=torch_device), torch.tensor(std, device=torch_device)
    steps = {
        "image": runtime.Step(
            prepare=lambda image: runtime.image_to_uint8(cpu_transform(runtime.require_image(image))),
            embed=lambda pixels: model.encode_image(runtime.normalise_on_device(pixels, mean_t, std_t))),
        "text": runtime.Step(
            prepare=lambda text: tokenizer([runtime.require_text(text)])[0],
            embed=model.encode_text),
    }
    bias = getattr(model, "logit_bias", None)
    return runtime.TorchEncoder(
        model=model, name=name, family=family, source=source, dim=_embed_dim(model), logit_scale=logit_scale,
        device=torch_device, dtype=runtime.autocast_dtype(torch_device, precision), steps=steps,
        logit_bias=None if bias is None else float(bias.detach().reshape(-1)[0]))


def _embed_dim(model: Any) -> int:
    """The joint embedding dimension of an open_clip model (its text projection's output)."""
    import torch
    with torch.inference_mode():
        tokens = torch.zeros((1, model.context_length), dtype=torch.long, device=next(model.parameters()).device)
        return int(model.encode_text(tokens).shape[-1])
