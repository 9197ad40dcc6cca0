"""CLOOB checkpoints (Fürst et al. 2022): the official RN50/RN101/RN50x4 ones and the LAION-trained ViT-B/16 ones.

They are CLIP-architecture state dicts (OpenAI-style names, QuickGELU for the ResNets, DataParallel "module."
prefixes under "state_dict") trained with a fixed inverse temperature instead of a learned logit scale. The
architecture is built with open_clip and the state dict loaded into it; the recorded logit scale is the checkpoint's
inverse temperature: exp of its "logit_inv_tau" parameter (ml-jku's name), else an "inv_tau" value stored with it,
else CLOOB's default of 30 (said in the source). Names map to open_clip architectures; any other open_clip name
is accepted too. CLOOB weights are not in open_clip's download list: `pretrained` is a checkpoint path or "none".
"""
from __future__ import annotations

import math
from typing import Any

from dashboard.errors import GapscopeError

ARCHITECTURES = {"RN50": "RN50-quickgelu", "RN101": "RN101-quickgelu", "RN50x4": "RN50x4-quickgelu",
                 "ViT-B-16": "ViT-B-16"}
DEFAULT_INV_TAU = 30.0
TEMPERATURE_KEYS = ("logit_inv_tau", "inv_tau", "logit_scale")


def known_names() -> list[str]:
    """The released CLOOB architectures."""
    return list(ARCHITECTURES)


def load(name: str, pretrained: str | None, device: str, precision: str) -> Any:
    """A CLOOB checkpoint as an image-text Encoder."""
    import open_clip
    from ingest.models import open_clip_models, runtime
    what = f"cloob:{name}"
    architecture = ARCHITECTURES.get(name, name)
    if architecture not in open_clip.list_models():
        raise GapscopeError(f"model {what}: unknown CLOOB model (known: {', '.join(ARCHITECTURES)}, "
                            f"or an open_clip architecture)")
    if pretrained is None:
        raise GapscopeError(f"model {what}: CLOOB weights are not downloadable here: pass a checkpoint path or none")
    if pretrained != "none":
        runtime.existing_path(what, pretrained)
    model, transform, tokenizer, _ = open_clip_models.build("cloob", architecture, "none")
    inv_tau, origin = DEFAULT_INV_TAU, "default"
    if pretrained != "none":
        checkpoint = runtime.read_checkpoint(what, pretrained)
        state_dict = runtime.unwrap_state_dict(what, checkpoint)
        inv_tau, origin = inverse_temperature(checkpoint, state_dict)
        state_dict = {key: value for key, value in state_dict.items() if key not in TEMPERATURE_KEYS}
        runtime.load_into(what, model, state_dict, may_miss=("logit_scale", "logit_bias"))
    source = f"{what} pretrained={pretrained} inv_tau={inv_tau:g} ({origin})"
    return open_clip_models.make_encoder("cloob", name, source, model, transform, tokenizer, device, precision,
                                         logit_scale=inv_tau)


def inverse_temperature(checkpoint: Any, state_dict: dict[str, Any]) -> tuple[float, str]:
    """The fixed inverse temperature of a CLOOB checkpoint and where it was found."""
    if "logit_inv_tau" in state_dict:
        return math.exp(float(state_dict["logit_inv_tau"].reshape(-1)[0])), "logit_inv_tau"
    if "inv_tau" in state_dict:
        return float(state_dict["inv_tau"].reshape(-1)[0]), "inv_tau"
    if isinstance(checkpoint, dict) and isinstance(checkpoint.get("inv_tau"), (int, float)):
        return float(checkpoint["inv_tau"]), "checkpoint inv_tau"
    if "logit_scale" in state_dict:
        return math.exp(float(state_dict["logit_scale"].reshape(-1)[0])), "logit_scale"
    return DEFAULT_INV_TAU, "default"
