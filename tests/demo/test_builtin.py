"""`builtin:` demo models load through the model registry and embed exactly as the committed store says."""
from __future__ import annotations

import numpy as np
import pytest

from dashboard.errors import GapscopeError
from ingest.demo.build import HELDOUT
from ingest.demo.openclipart import load_png
from ingest.models.builtin import NAMES
from ingest.models.registry import list_models, load_model


@pytest.fixture(scope="module")
def committed_items(demo_store):
    """Four held-out items of the committed store, decoded from their source files."""
    items = demo_store.items(HELDOUT).head(4)
    return items, [load_png(ref) for ref in items["image_ref"]]


def test_registry_lists_the_demo_models():
    assert list_models()["builtin"] == list(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_builtin_model_embeds_like_the_committed_store(name, demo_store, committed_items):
    items, images = committed_items
    encoder = load_model(f"builtin:{name}")
    assert encoder.dim == demo_store.model(name)["dim"]
    assert encoder.logit_scale == pytest.approx(demo_store.model(name)["logit_scale"])
    image = encoder.encode("image", [encoder.preprocess("image", im) for im in images])
    text = encoder.encode("text", [encoder.preprocess("text", t) for t in items["text"]])
    paired = demo_store.pairs(HELDOUT, name, item_ids=items["item_id"].tolist())
    order = [paired.item_ids.index(i) for i in items["item_id"]]
    assert np.abs(image - paired.vectors["image"][order]).max() < 1e-3
    assert np.abs(text - paired.vectors["text"][order]).max() < 1e-3


def test_random_heads_load_without_weights_and_bad_names_fail(tmp_path):
    encoder = load_model("builtin:demo-clip", pretrained="none")
    out = encoder.encode("text", [encoder.preprocess("text", "a red apple")])
    assert out.shape == (1, encoder.dim) and np.isclose(np.linalg.norm(out), 1.0, atol=1e-5)
    with pytest.raises(GapscopeError, match="unknown"):
        load_model("builtin:demo-siglip")
    with pytest.raises(GapscopeError, match="no head weights"):
        load_model("builtin:demo-clip", pretrained=str(tmp_path / "missing.safetensors"))
