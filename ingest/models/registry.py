"""The model registry: a family name -> the module that loads it; adding a family is one module plus one line here.

A family module defines `load(name, pretrained, device, precision) -> Encoder` and `known_names() -> list[str]`;
it imports torch and its libraries lazily, so importing this registry stays cheap. Specs are "FAMILY:NAME"
(e.g. "open_clip:ViT-B-32", "hf-clip:openai/clip-vit-base-patch32"); `pretrained` is a tag, a local checkpoint
path, or "none" for random weights (None: the family's default weights).
"""
from __future__ import annotations

import importlib
from types import ModuleType

from dashboard.errors import GapscopeError
from ingest.base import Encoder

FAMILIES: dict[str, str] = {
    "open_clip": "ingest.models.open_clip_models",
    "hf-clip": "ingest.models.hf_clip",
    "hf-siglip": "ingest.models.hf_siglip",
    "hf-clap": "ingest.models.hf_clap",
    "cloob": "ingest.models.cloob",
    "imagebind": "ingest.models.imagebind",
    "cloome": "ingest.models.cloome",
    "precomputed": "ingest.models.precomputed",
    "builtin": "ingest.models.builtin",
}


def parse_spec(spec: str) -> tuple[str, str]:
    """(family, name) of a "FAMILY:NAME" spec; else a one-line error listing the families."""
    family, sep, name = spec.partition(":")
    if not sep or not family or not name:
        raise GapscopeError(f"model {spec!r}: expected FAMILY:NAME (families: {', '.join(FAMILIES)})")
    if family not in FAMILIES:
        raise GapscopeError(f"model {spec!r}: unknown family {family!r} (families: {', '.join(FAMILIES)})")
    return family, name


def family_module(family: str) -> ModuleType:
    """The module of a registered family; a registered but absent module is a one-line error."""
    path = FAMILIES[family]
    try:
        return importlib.import_module(path)
    except ModuleNotFoundError as error:
        if error.name != path:
            raise
        raise GapscopeError(f"model family {family!r}: its module {path} is not installed") from None


def load_model(spec: str, pretrained: str | None = None, device: str = "cpu", precision: str = "auto") -> Encoder:
    """The Encoder of a "FAMILY:NAME" spec, with weights from `pretrained` (tag, checkpoint path or "none")."""
    family, name = parse_spec(spec)
    return family_module(family).load(name, pretrained, device, precision)


def list_models() -> dict[str, list[str]]:
    """Each family with the names it knows (families whose module is absent list none)."""
    listing = {}
    for family in FAMILIES:
        try:
            listing[family] = list(family_module(family).known_names())
        except GapscopeError:
            listing[family] = []
    return listing
