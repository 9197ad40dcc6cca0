"""open_clip family: random tiny models by the same code path, checkpoints saved and loaded back, CyCLIP format."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from dashboard.errors import GapscopeError
from ingest.base import BadItem
from ingest.models import load_model


def plain_open_clip(encoder, transform, images, captions, tokenizer):
    """Embeddings computed the plain open_clip way (full CPU transform, model.encode_*)."""
    with torch.inference_mode():
        image = encoder.model.encode_image(torch.stack([transform(im) for im in images]))
        text = encoder.model.encode_text(tokenizer(captions))
    return image.numpy(), text.numpy()


def embed(encoder, images, captions=("a photo of a cat", "the red car", "a bird")):
    """Embeddings through the Encoder protocol (preprocess per item, encode the batch)."""
    image = encoder.encode("image", [encoder.preprocess("image", im) for im in images])
    text = encoder.encode("text", [encoder.preprocess("text", caption) for caption in captions])
    return image, text


def test_random_tiny_vit_matches_plain_open_clip(open_clip_tiny, images, captions):
    import open_clip
    encoder = load_model(f"open_clip:{open_clip_tiny['vit']}", pretrained="none")
    assert (encoder.family, encoder.modalities, encoder.dim) == ("open_clip", ["image", "text"], 32)
    assert encoder.logit_scale == pytest.approx(1 / 0.07, rel=1e-5)
    _, _, transform = open_clip.create_model_and_transforms(open_clip_tiny["vit"])
    tokenizer = open_clip.get_tokenizer(open_clip_tiny["vit"])
    expected_image, expected_text = plain_open_clip(encoder, transform, images, captions, tokenizer)
    image, text = embed(encoder, images, captions)
    assert image.dtype == np.float32 and image.shape == (3, 32) and text.shape == (3, 32)
    np.testing.assert_allclose(image, expected_image, atol=1e-5)
    np.testing.assert_allclose(text, expected_text, atol=1e-5)
    assert encoder.preprocess("image", images[0]).dtype == torch.uint8


def test_checkpoint_saved_and_loaded_back_gives_same_embeddings(open_clip_tiny, images, tmp_path):
    first = load_model(f"open_clip:{open_clip_tiny['vit']}", pretrained="none")
    with torch.no_grad():
        first.model.logit_scale.fill_(np.log(50.0))
    torch.save(first.model.state_dict(), tmp_path / "tiny.pt")
    again = load_model(f"open_clip:{open_clip_tiny['vit']}", pretrained=str(tmp_path / "tiny.pt"))
    assert again.logit_scale == pytest.approx(50.0, rel=1e-5) and str(tmp_path) in again.source
    for got, want in zip(embed(again, images), embed(first, images)):
        np.testing.assert_allclose(got, want, atol=1e-6)
    other = load_model(f"open_clip:{open_clip_tiny['vit']}", pretrained="none")
    assert not np.allclose(embed(other, images)[0], embed(first, images)[0], atol=1e-3)


def test_cyclip_style_checkpoint_with_state_dict_key_and_module_prefix(open_clip_tiny, images, tmp_path):
    trained = load_model(f"open_clip:{open_clip_tiny['rn']}", pretrained="none")
    weights = {f"module.{key}": value for key, value in trained.model.state_dict().items()}
    torch.save({"epoch": 64, "name": "cyclip", "state_dict": weights}, tmp_path / "epoch_64.pt")
    loaded = load_model(f"open_clip:{open_clip_tiny['rn']}", pretrained=str(tmp_path / "epoch_64.pt"))
    for got, want in zip(embed(loaded, images), embed(trained, images)):
        np.testing.assert_allclose(got, want, atol=1e-6)


def test_checkpoint_of_another_architecture_is_a_clear_error(open_clip_tiny, tmp_path):
    vit = load_model(f"open_clip:{open_clip_tiny['vit']}", pretrained="none")
    torch.save(vit.model.state_dict(), tmp_path / "vit.pt")
    with pytest.raises(GapscopeError, match="does not fit the architecture"):
        load_model(f"open_clip:{open_clip_tiny['rn']}", pretrained=str(tmp_path / "vit.pt"))


def test_bf16_autocast_on_cpu_is_close_to_fp32(open_clip_tiny, images):
    encoder = load_model(f"open_clip:{open_clip_tiny['vit']}", pretrained="none")
    exact = embed(encoder, images)[0]
    encoder.dtype = torch.bfloat16
    approx = embed(encoder, images)[0]
    assert approx.dtype == np.float32
    cosine = (exact * approx).sum(1) / np.linalg.norm(exact, axis=1) / np.linalg.norm(approx, axis=1)
    assert cosine.min() > 0.99


def test_unknown_name_lists_known_models():
    with pytest.raises(GapscopeError, match="unknown open_clip model 'ViT-Z-99' \\(known: .*ViT-B-32"):
        load_model("open_clip:ViT-Z-99")


def test_unknown_tag_lists_tags_and_missing_checkpoint_is_named(tmp_path):
    with pytest.raises(GapscopeError, match="unknown pretrained tag 'nope' \\(known: openai, laion"):
        load_model("open_clip:ViT-B-32", pretrained="nope")
    missing = tmp_path / "absent.pt"
    with pytest.raises(GapscopeError, match=f"checkpoint {missing} does not exist"):
        load_model("open_clip:ViT-B-32", pretrained=str(missing))


def test_bad_inputs_are_bad_items(open_clip_tiny):
    encoder = load_model(f"open_clip:{open_clip_tiny['vit']}", pretrained="none")
    with pytest.raises(BadItem, match="empty caption"):
        encoder.preprocess("text", "  ")
    with pytest.raises(BadItem, match="expected a decoded image"):
        encoder.preprocess("image", np.zeros((4, 4, 3)))
    with pytest.raises(GapscopeError, match="no modality 'audio' \\(has image, text\\)"):
        encoder.preprocess("audio", None)


def test_local_dir_with_open_clip_config_and_weights(open_clip_tiny, images, tmp_path):
    import json
    import open_clip
    trained = load_model(f"open_clip:{open_clip_tiny['vit']}", pretrained="none")
    config = {"model_cfg": open_clip.get_model_config(open_clip_tiny["vit"])}
    (tmp_path / "open_clip_config.json").write_text(json.dumps(config))
    torch.save(trained.model.state_dict(), tmp_path / "open_clip_pytorch_model.bin")
    loaded = load_model(f"open_clip:local-dir:{tmp_path}")
    for got, want in zip(embed(loaded, images), embed(trained, images)):
        np.testing.assert_allclose(got, want, atol=1e-6)
    with pytest.raises(GapscopeError, match="local-dir:.*absent: cannot load weights"):
        load_model(f"open_clip:local-dir:{tmp_path / 'absent'}")
