"""Hugging Face transformers SigLIP models (SiglipModel) by repository id or local folder.

Loaded as the CLIP family is (see hf_clip), with SigLIP's text convention: captions padded to the maximum length
and no attention mask, as in training. SigLIP scores pairs with a sigmoid of logit_scale * cosine + logit_bias:
both learned values are recorded.
"""
from __future__ import annotations

from typing import Any

KNOWN = ["google/siglip-base-patch16-224", "google/siglip-so400m-patch14-384"]


def known_names() -> list[str]:
    """Well-known SigLIP repositories (any repository id or local folder is accepted)."""
    return list(KNOWN)


def load(name: str, pretrained: str | None, device: str, precision: str) -> Any:
    """A transformers SiglipModel as an image-text Encoder."""
    from ingest.models.hf_clip import load_image_text
    return load_image_text("hf-siglip", "SiglipModel", name, pretrained, device, precision, KNOWN, pad_to_max=True)
