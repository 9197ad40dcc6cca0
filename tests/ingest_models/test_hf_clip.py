"""Hugging Face CLIP and SigLIP families: tiny folders saved by save_pretrained, random and reloaded weights."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from dashboard.errors import GapscopeError
from ingest.models import load_model


def embed(encoder, images, captions):
    """Embeddings through the Encoder protocol."""
    image = encoder.encode("image", [encoder.preprocess("image", im) for im in images])
    text = encoder.encode("text", [encoder.preprocess("text", caption) for caption in captions])
    return image, text


def plain_transformers(model_class, folder, images, captions, pad_to_max):
    """Embeddings the plain transformers way: from_pretrained, processor, get_*_features."""
    import transformers
    model = getattr(transformers, model_class).from_pretrained(folder).eval()
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
    processor = transformers.AutoImageProcessor.from_pretrained(folder)
    padding = "max_length" if pad_to_max else True
    tokens = tokenizer(captions, padding=padding, truncation=True, max_length=16, return_tensors="pt")
    if pad_to_max:
        tokens.pop("attention_mask", None)
    with torch.inference_mode():
        image = model.get_image_features(**processor(images=images, return_tensors="pt"))
        text = model.get_text_features(**tokens)
    pooled = [getattr(out, "pooler_output", out) for out in (image, text)]
    return [out.numpy() for out in pooled], model


@pytest.mark.parametrize("family, model_class, fixture, pad_to_max", [
    ("hf-clip", "CLIPModel", "hf_clip_folder", False), ("hf-siglip", "SiglipModel", "hf_siglip_folder", True)])
def test_folder_weights_match_plain_transformers(family, model_class, fixture, pad_to_max, request, images,
                                                 captions):
    folder = request.getfixturevalue(fixture)
    encoder = load_model(f"{family}:{folder}")
    (want_image, want_text), model = plain_transformers(model_class, folder, images, captions, pad_to_max)
    got_image, got_text = embed(encoder, images, captions)
    assert got_image.dtype == np.float32 and encoder.dim == want_image.shape[1]
    np.testing.assert_allclose(got_image, want_image, atol=1e-5)
    np.testing.assert_allclose(got_text, want_text, atol=1e-5)
    assert encoder.logit_scale == pytest.approx(float(model.logit_scale.detach().exp()), rel=1e-6)
    assert encoder.modalities == ["image", "text"] and encoder.family == family


def test_siglip_records_its_logit_bias(hf_siglip_folder, tmp_path):
    from transformers import SiglipModel
    model = SiglipModel.from_pretrained(hf_siglip_folder)
    with torch.no_grad():
        model.logit_scale.fill_(np.log(10.0))
        model.logit_bias.fill_(-3.5)
    model.save_pretrained(tmp_path / "tuned")
    encoder = load_model(f"hf-siglip:{hf_siglip_folder}", pretrained=str(tmp_path / "tuned"))
    assert encoder.logit_scale == pytest.approx(10.0, rel=1e-5) and encoder.logit_bias == pytest.approx(-3.5)


def test_none_is_random_and_a_weights_folder_is_loaded_back(hf_clip_folder, tmp_path, images, captions):
    saved = load_model(f"hf-clip:{hf_clip_folder}")
    random = load_model(f"hf-clip:{hf_clip_folder}", pretrained="none")
    assert not np.allclose(embed(random, images, captions)[0], embed(saved, images, captions)[0], atol=1e-3)
    random.model.save_pretrained(tmp_path / "finetuned")
    reloaded = load_model(f"hf-clip:{hf_clip_folder}", pretrained=str(tmp_path / "finetuned"))
    for got, want in zip(embed(reloaded, images, captions), embed(random, images, captions)):
        np.testing.assert_allclose(got, want, atol=1e-6)


def test_unknown_repository_lists_known_ones(tmp_path):
    with pytest.raises(GapscopeError, match="neither a save_pretrained folder nor a repository in the local Hugging "
                                            "Face cache \\(known repositories: openai/clip-vit-base-patch32"):
        load_model("hf-clip:nobody/no-such-clip")
    with pytest.raises(GapscopeError, match="known repositories: google/siglip-base-patch16-224"):
        load_model("hf-siglip:nobody/no-such-siglip")


def test_missing_folder_or_weights_is_named(hf_clip_folder, tmp_path):
    with pytest.raises(GapscopeError, match=f"checkpoint {tmp_path / 'gone'} does not exist"):
        load_model(f"hf-clip:{tmp_path / 'gone'}")
    with pytest.raises(GapscopeError, match=f"checkpoint {tmp_path / 'weights'} does not exist"):
        load_model(f"hf-clip:{hf_clip_folder}", pretrained=str(tmp_path / "weights"))
