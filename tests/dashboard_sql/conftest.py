"""Fixtures for the SQL and Search pages: a synthetic store plus a tiny random CLIP (saved to a folder and loaded
back through ingest's hf-clip family) whose text encoder embeds the captions, and helpers to run a page."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.store import Store
from dashboard.synthetic import build_synthetic_store

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[2]
WORDS = ["a", "dog", "cat", "pizza", "train", "surf", "tennis", "bus", "horse", "kite", "plane", "hot", "bird"]
N = 60


def _save_tiny_clip(folder: Path) -> None:
    """A randomly initialised tiny transformers CLIP with a word-level tokenizer over WORDS."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, PreTrainedTokenizerFast

    vocab = {"[PAD]": 0, "[UNK]": 1, "[EOS]": 2, **{word: 3 + i for i, word in enumerate(WORDS)}}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.post_processor = processors.TemplateProcessing(single="$A [EOS]", special_tokens=[("[EOS]", 2)])
    text = {"vocab_size": len(vocab), "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
            "num_attention_heads": 2, "max_position_embeddings": 16, "eos_token_id": 2, "pad_token_id": 0, "bos_token_id": 1}
    vision = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1, "num_attention_heads": 2,
              "image_size": 32, "patch_size": 8}
    CLIPModel(CLIPConfig(text_config=text, vision_config=vision, projection_dim=24)).save_pretrained(folder)
    CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}).save_pretrained(folder)
    PreTrainedTokenizerFast(tokenizer_object=tokenizer, pad_token="[PAD]", unk_token="[UNK]",
                            eos_token="[EOS]").save_pretrained(folder)


def _add_tiny_clip(store: Store, folder: Path) -> None:
    """Embed the captions with the tiny CLIP's text encoder (images: random vectors) as model tiny-clip."""
    from ingest.models.registry import load_model

    spec = f"hf-clip:{folder}"
    encoder = load_model(spec)
    items = store.items("synthetic")
    ids, texts = items["item_id"].tolist()[:N], items["text"].tolist()[:N]
    store.add_model("tiny-clip", ["image", "text"], encoder.dim, encoder.logit_scale, family="hf-clip",
                    config={"spec": spec, "pretrained": None})
    text_vectors = encoder.encode("text", [encoder.preprocess("text", t) for t in texts])
    store.add_embeddings("synthetic", "tiny-clip", "text", ids, text_vectors)
    rng = np.random.default_rng(0)
    store.add_embeddings("synthetic", "tiny-clip", "image", ids, rng.normal(size=(N, encoder.dim)).astype(np.float32))


@pytest.fixture(scope="session")
def store_path(tmp_path_factory) -> str:
    """Synthetic store: synth-a, synth-b, tiny-clip (typed text search), image-only (no text encoder), and one
    item that no model embedded."""
    root = tmp_path_factory.mktemp("pages")
    store = build_synthetic_store(root / "store", n=N, dim=16)
    folder = root / "tiny-clip"
    _save_tiny_clip(folder)
    _add_tiny_clip(store, folder)
    store.add_model("image-only", ["image"], 16)
    store.add_embeddings("synthetic", "image-only", "image", [str(i) for i in range(N)],
                         np.random.default_rng(1).normal(size=(N, 16)).astype(np.float32))
    store.add_items("synthetic", pd.DataFrame({"item_id": ["orphan"], "text": ["a cat never embedded"]}))
    return str(root / "store")


@pytest.fixture
def page(store_path):
    """A function running a page with URL parameters (the store, plus any given)."""
    def run(name: str, **params: str) -> AppTest:
        app = AppTest.from_file(str(REPO / "pages" / f"{name}.py"), default_timeout=120)
        app.query_params["store"] = store_path
        for key, value in params.items():
            app.query_params[key] = value
        return app.run()
    return run
