"""A slice of the demo rebuilt from scratch by the same code, compared with the committed store."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from dashboard.store import artifacts
from ingest.demo import features
from ingest.demo.build import HELDOUT
from ingest.demo.heads import load_heads
from ingest.demo.openclipart import find_drawings
from ingest.demo.train import heldout_mask, train_one
from ingest.models.builtin import NAMES


def test_slice_heldout_items_are_in_the_committed_store_with_the_same_captions(slice_build, demo_store):
    rebuilt = slice_build["store"].items(HELDOUT).set_index("item_id")["text"]
    committed = demo_store.items(HELDOUT).set_index("item_id")["text"]
    assert len(rebuilt) >= 3
    assert set(rebuilt.index) <= set(committed.index)
    assert (committed.reindex(rebuilt.index) == rebuilt).all()


def test_slice_split_follows_the_ids(slice_build):
    drawings, _ = find_drawings(slice_build["options"].root)
    ids = [d.item_id for d in drawings[:60]]
    expected = {i for i, held in zip(ids, heldout_mask(ids)) if held}
    assert set(slice_build["store"].items(HELDOUT)["item_id"]) == expected


def test_slice_has_models_sweeps_artefacts_and_readme(slice_build):
    store = slice_build["store"]
    assert sorted(store.models()["name"]) == sorted(NAMES)
    sweeps = store.datasets().query("kind == 'sweep'")
    assert sorted(sweeps["name"]) == sorted(f"sweep-{op}-chelsea" for op in ("rotate", "blur", "noise", "hshift", "vshift"))
    assert (sweeps["items"] == 6).all()
    for dataset in store.datasets()["name"]:
        for model in NAMES:
            assert store.get_json(dataset, model, artifacts.METRICS, "summary") is not None, (dataset, model)
    assert "| demo-cloob |" in (store.path / "README.md").read_text()


def test_slice_models_store_their_logit_scales(slice_build):
    store = slice_build["store"]
    for name in NAMES:
        _, config = load_heads(slice_build["options"].heads_dir / f"{name}.safetensors")
        assert store.model(name)["logit_scale"] == pytest.approx(config["logit_scale"])
    assert store.model("demo-cloob")["logit_scale"] == pytest.approx(30.0)
    assert store.model("demo-clip")["logit_scale"] != pytest.approx(1 / 0.07)


def test_training_is_deterministic(slice_build):
    drawings, _ = find_drawings(slice_build["options"].root)
    feats = features.drawing_features(drawings[:60], slice_build["options"].cache, features.Towers())
    config = slice_build["options"].config
    for objective in ("clip", "cyclip", "cloob"):
        first, _ = train_one(objective, feats.image, feats.text, config)
        second, _ = train_one(objective, feats.image, feats.text, config)
        for (name, a), b in zip(first.state_dict().items(), second.state_dict().values()):
            assert torch.equal(a, b), (objective, name)


def test_slice_embeddings_are_normalised_and_distinct_per_model(slice_build):
    store = slice_build["store"]
    vectors = [store.pairs(HELDOUT, m).vectors["image"] for m in NAMES]
    for v in vectors:
        assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert not np.allclose(vectors[0], vectors[1])
