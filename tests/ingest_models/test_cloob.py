"""CLOOB family: CLIP-architecture checkpoints with a fixed inverse temperature, loaded into open_clip models."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from dashboard.errors import GapscopeError
from ingest.models import load_model


def embed(encoder, images):
    """Image and text embeddings through the Encoder protocol."""
    image = encoder.encode("image", [encoder.preprocess("image", im) for im in images])
    text = encoder.encode("text", [encoder.preprocess("text", c) for c in ("a photo of a cat", "a dog")])
    return image, text


def cloob_checkpoint(trained, path, temperature: dict) -> None:
    """Save `trained`'s weights as ml-jku's CLOOB training does: module. prefixes, no logit_scale, an inv tau."""
    weights = {f"module.{k}": v for k, v in trained.model.state_dict().items() if k != "logit_scale"}
    weights.update({f"module.{k}": v for k, v in temperature.items()})
    torch.save({"epoch": 28, "name": "cloob", "state_dict": weights, "model_config_file": "RN50.json"}, path)


def test_checkpoint_with_logit_inv_tau_loads_back_with_its_temperature(open_clip_tiny, images, tmp_path):
    trained = load_model(f"open_clip:{open_clip_tiny['rn']}", pretrained="none")
    cloob_checkpoint(trained, tmp_path / "cloob.pt", {"logit_inv_tau": torch.tensor(math.log(30.0))})
    encoder = load_model(f"cloob:{open_clip_tiny['rn']}", pretrained=str(tmp_path / "cloob.pt"))
    assert encoder.family == "cloob" and encoder.logit_scale == pytest.approx(30.0, rel=1e-6)
    assert "inv_tau=30 (logit_inv_tau)" in encoder.source
    for got, want in zip(embed(encoder, images), embed(trained, images)):
        np.testing.assert_allclose(got, want, atol=1e-6)


def test_inverse_temperature_stored_beside_the_weights_or_the_default(open_clip_tiny, tmp_path):
    trained = load_model(f"open_clip:{open_clip_tiny['rn']}", pretrained="none")
    cloob_checkpoint(trained, tmp_path / "plain.pt", {})
    default = load_model(f"cloob:{open_clip_tiny['rn']}", pretrained=str(tmp_path / "plain.pt"))
    assert default.logit_scale == 30.0 and "(default)" in default.source
    weights = {k: v for k, v in trained.model.state_dict().items() if k != "logit_scale"}
    torch.save({"state_dict": weights, "inv_tau": 48.0}, tmp_path / "laion.pt")
    stored = load_model(f"cloob:{open_clip_tiny['rn']}", pretrained=str(tmp_path / "laion.pt"))
    assert stored.logit_scale == 48.0


def test_random_weights_and_released_names(open_clip_tiny):
    encoder = load_model(f"cloob:{open_clip_tiny['vit']}", pretrained="none")
    assert encoder.modalities == ["image", "text"] and encoder.logit_scale == 30.0 and encoder.dim == 32
    from ingest.models.cloob import ARCHITECTURES
    import open_clip
    assert all(arch in open_clip.list_models() for arch in ARCHITECTURES.values())


def test_errors_name_known_models_and_missing_checkpoints(tmp_path):
    with pytest.raises(GapscopeError, match="unknown CLOOB model \\(known: RN50, RN101, RN50x4, ViT-B-16"):
        load_model("cloob:RN49", pretrained="none")
    with pytest.raises(GapscopeError, match="pass a checkpoint path or none"):
        load_model("cloob:RN50")
    with pytest.raises(GapscopeError, match=f"checkpoint {tmp_path / 'rn50.pt'} does not exist"):
        load_model("cloob:RN50", pretrained=str(tmp_path / "rn50.pt"))
