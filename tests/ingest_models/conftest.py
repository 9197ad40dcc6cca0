"""Tiny models for the model-family tests: open_clip configs registered from JSON, HF folders from tiny configs."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

TINY_VIT = {"embed_dim": 32,
            "vision_cfg": {"image_size": 32, "layers": 1, "width": 64, "head_width": 32, "patch_size": 8},
            "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 1}}
TINY_RN = {"embed_dim": 32, "quick_gelu": True,
           "vision_cfg": {"image_size": 64, "layers": [1, 1, 1, 1], "width": 16, "head_width": 16},
           "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 1}}
WORDS = ["a", "photo", "of", "cat", "dog", "the", "sound", "bird", "car", "red"]


@pytest.fixture(scope="session")
def open_clip_tiny(tmp_path_factory) -> dict[str, str]:
    """Tiny open_clip architectures registered under gapscope-tiny-* names (open_clip's add_model_config)."""
    import open_clip
    folder = tmp_path_factory.mktemp("open_clip_configs")
    for name, config in {"gapscope-tiny-vit": TINY_VIT, "gapscope-tiny-rn": TINY_RN}.items():
        (folder / f"{name}.json").write_text(json.dumps(config))
    open_clip.add_model_config(folder)
    return {"vit": "gapscope-tiny-vit", "rn": "gapscope-tiny-rn"}


def save_word_tokenizer(folder: Path) -> None:
    """A small word-level fast tokenizer (ids below 16, end token 2) saved into a model folder."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast
    vocab = {"[PAD]": 0, "[UNK]": 1, "[EOS]": 2, **{word: 3 + i for i, word in enumerate(WORDS)}}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.post_processor = processors.TemplateProcessing(single="$A [EOS]", special_tokens=[("[EOS]", 2)])
    PreTrainedTokenizerFast(tokenizer_object=tokenizer, pad_token="[PAD]", unk_token="[UNK]",
                            eos_token="[EOS]").save_pretrained(folder)


def text_config() -> dict:
    """A tiny text tower config shared by the HF test models."""
    return {"vocab_size": 16, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
            "num_attention_heads": 2, "max_position_embeddings": 16, "eos_token_id": 2, "pad_token_id": 0,
            "bos_token_id": 1}


@pytest.fixture(scope="session")
def hf_clip_folder(tmp_path_factory) -> Path:
    """A folder with a randomly initialised tiny CLIPModel, its tokenizer and image processor."""
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel
    folder = tmp_path_factory.mktemp("hf_clip")
    vision = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1, "num_attention_heads": 2,
              "image_size": 32, "patch_size": 8}
    CLIPModel(CLIPConfig(text_config=text_config(), vision_config=vision, projection_dim=24)).save_pretrained(folder)
    CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}).save_pretrained(folder)
    save_word_tokenizer(folder)
    return folder


@pytest.fixture(scope="session")
def hf_siglip_folder(tmp_path_factory) -> Path:
    """A folder with a randomly initialised tiny SiglipModel, its tokenizer and image processor."""
    from transformers import SiglipConfig, SiglipImageProcessor, SiglipModel
    folder = tmp_path_factory.mktemp("hf_siglip")
    vision = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1, "num_attention_heads": 2,
              "image_size": 32, "patch_size": 8}
    SiglipModel(SiglipConfig(text_config=text_config(), vision_config=vision)).save_pretrained(folder)
    SiglipImageProcessor(size={"height": 32, "width": 32}).save_pretrained(folder)
    save_word_tokenizer(folder)
    return folder


@pytest.fixture
def images():
    """Three small RGB images of different sizes and contents."""
    from PIL import Image
    rng = np.random.default_rng(0)
    return [Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)) for h, w in [(40, 50), (64, 48), (33, 33)]]


@pytest.fixture
def captions() -> list[str]:
    """Three captions in the test tokenizer's vocabulary."""
    return ["a photo of a cat", "the red car", "a bird"]


@pytest.fixture(scope="session")
def hf_clap_folder(tmp_path_factory) -> Path:
    """A folder with a randomly initialised tiny ClapModel (HTSAT audio tower), its tokenizer and feature extractor."""
    from transformers import ClapConfig, ClapFeatureExtractor, ClapModel
    folder = tmp_path_factory.mktemp("hf_clap")
    text = {**text_config(), "max_position_embeddings": 20, "type_vocab_size": 1}
    audio = {"depths": [1, 1], "num_attention_heads": [1, 2], "patch_embeds_hidden_size": 16, "hidden_size": 32,
             "enable_fusion": False}
    ClapModel(ClapConfig(text_config=text, audio_config=audio, projection_dim=24)).save_pretrained(folder)
    ClapFeatureExtractor(truncation="rand_trunc", padding="repeatpad").save_pretrained(folder)
    save_word_tokenizer(folder)
    return folder
