"""Hugging Face transformers CLIP models (CLIPModel) by repository id or local folder; shared with SigLIP.

The name is a hub repository id (found in the local cache: no downloads at run time) or a folder written by
`save_pretrained` holding the model config, tokenizer and image processor. `pretrained`: None takes the weights
of that repository/folder, "none" builds the architecture from its config with random weights, a path takes the
weights from another folder (fine-tuned), anything else is a hub revision. The logit scale is exp of the model's
learned `logit_scale`; SigLIP models also carry a learned `logit_bias`.
"""
from __future__ import annotations

from typing import Any

from dashboard.errors import GapscopeError

KNOWN = ["openai/clip-vit-base-patch32", "openai/clip-vit-base-patch16", "openai/clip-vit-large-patch14",
         "laion/CLIP-ViT-B-32-laion2B-s34B-b79K", "laion/CLIP-ViT-H-14-laion2B-s32B-b79K"]


def known_names() -> list[str]:
    """Well-known CLIP repositories (any repository id or local folder is accepted)."""
    return list(KNOWN)


def load(name: str, pretrained: str | None, device: str, precision: str) -> Any:
    """A transformers CLIPModel as an image-text Encoder."""
    return load_image_text("hf-clip", "CLIPModel", name, pretrained, device, precision, KNOWN)


def load_parts(family: str, model_class: str, name: str, pretrained: str | None, known: list[str],
               processor_class: str) -> tuple[Any, Any, Any, str]:
    """(model, tokenizer, processor, source) of a repository or folder; errors name what exists."""
    import transformers
    from ingest.models import runtime
    what = f"{family}:{name}"
    if is_folder(name):
        runtime.existing_path(what, name)
    try:
        config = transformers.AutoConfig.from_pretrained(name)
        tokenizer = transformers.AutoTokenizer.from_pretrained(name)
        processor = getattr(transformers, processor_class).from_pretrained(name)
    except (OSError, ValueError) as error:
        raise GapscopeError(f"model {what}: neither a save_pretrained folder nor a repository in the local Hugging "
                            f"Face cache (known repositories: {', '.join(known)}; {str(error).splitlines()[0]})") from None
    cls = getattr(transformers, model_class)
    if pretrained == "none":
        return cls(config).eval(), tokenizer, processor, f"{what} pretrained=none"
    source = name if pretrained is None or not is_folder(pretrained) else pretrained
    if source != name:
        runtime.existing_path(what, source)
    revision = None if pretrained is None or source != name else pretrained
    try:
        model = cls.from_pretrained(source, revision=revision)
    except (OSError, ValueError) as error:
        raise GapscopeError(f"model {what}: cannot load weights from {source} ({str(error).splitlines()[0]})") from None
    return model.eval(), tokenizer, processor, f"{what} pretrained={pretrained or source}"


def is_folder(name: str) -> bool:
    """Whether a name is a local folder (existing or path-shaped) rather than a hub repository id (org/name)."""
    from pathlib import Path
    return Path(name).expanduser().exists() or name.startswith(("/", ".", "~")) or name.count("/") > 1


def features(output: Any) -> Any:
    """The projected embeddings of a get_*_features call (a tensor, or an output with pooler_output)."""
    return getattr(output, "pooler_output", output)


def text_collate(pad_id: int, with_mask: bool):
    """A collate that pads token id lists to the longest, with an attention mask when the model uses one."""
    import torch

    def collate(batch: list[list[int]]) -> dict[str, Any]:
        width = max(len(ids) for ids in batch)
        input_ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, ids in enumerate(batch):
            input_ids[row, :len(ids)] = torch.tensor(ids, dtype=torch.long)
            mask[row, :len(ids)] = 1
        return {"input_ids": input_ids, "attention_mask": mask} if with_mask else {"input_ids": input_ids}
    return collate


def load_image_text(family: str, model_class: str, name: str, pretrained: str | None, device: str,
                    precision: str, known: list[str], pad_to_max: bool = False) -> Any:
    """An image-text Encoder over a transformers dual encoder (CLIPModel, SiglipModel)."""
    from ingest.models import runtime
    model, tokenizer, processor, source = load_parts(family, model_class, name, pretrained, known,
                                                     "AutoImageProcessor")
    torch_device = runtime.resolve_device(device)
    model = model.to(torch_device)
    max_length = model.config.text_config.max_position_embeddings
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    steps = {
        "image": runtime.Step(
            prepare=lambda image: processor(images=runtime.require_image(image),
                                            return_tensors="pt")["pixel_values"][0],
            embed=lambda pixels: features(model.get_image_features(pixel_values=pixels))),
        "text": runtime.Step(
            prepare=lambda text: tokenizer(runtime.require_text(text), truncation=True, max_length=max_length,
                                           padding="max_length" if pad_to_max else False)["input_ids"],
            embed=lambda inputs: features(model.get_text_features(**inputs)),
            collate=text_collate(pad_id, with_mask=not pad_to_max)),
    }
    bias = getattr(model, "logit_bias", None)
    return runtime.TorchEncoder(
        model=model, name=name, family=family, source=source, dim=embed_dim(steps["text"], torch_device),
        logit_scale=runtime.logit_scale_of(model.logit_scale, 1.0), device=torch_device,
        dtype=runtime.autocast_dtype(torch_device, precision), steps=steps,
        logit_bias=None if bias is None else float(bias.detach().reshape(-1)[0]))


def embed_dim(text_step: Any, device: Any) -> int:
    """The joint embedding dimension, read off the text tower's output for one short text."""
    from ingest.models import runtime
    with runtime.inference(device, None):
        inputs = runtime.to_device(text_step.collate([text_step.prepare("a")]), device)
        return int(text_step.embed(inputs).shape[-1])
