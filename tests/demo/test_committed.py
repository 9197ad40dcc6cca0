"""The committed demo store: held-out size, recall far above chance, stored metrics that its embeddings reproduce,
and `gapscope metrics` on every model."""
from __future__ import annotations

import json

import numpy as np
import pytest

from dashboard.analysis.retrieval import partner_ranks
from dashboard.cli import main
from dashboard.metrics import compute_metrics
from dashboard.store import artifacts
from ingest.demo.build import HELDOUT
from ingest.demo.diffusiondb import MODELS as AMUMO_MODELS
from ingest.models.builtin import NAMES

MIN_HELDOUT = 1000
TIMES_CHANCE = 10


def test_store_has_the_three_models_and_enough_heldout_pairs(demo_store):
    assert sorted(demo_store.models()["name"]) == sorted([*NAMES, *AMUMO_MODELS])
    items = demo_store.items(HELDOUT, thumbnails=True)
    assert len(items) >= MIN_HELDOUT
    assert items["text"].str.len().min() > 0
    assert items["thumbnail"].notna().all()
    kinds = set(demo_store.datasets()["kind"])
    assert kinds == {"pairs", "sweep", "amumo"}


@pytest.mark.parametrize("model", NAMES)
def test_heldout_image_to_text_recall_at_10_is_many_times_chance(demo_store, model):
    paired = demo_store.pairs(HELDOUT, model, ["image", "text"])
    ranks = partner_ranks(paired.vectors["image"], paired.vectors["text"])
    chance = 10 / len(ranks)
    assert np.mean(ranks <= 10) > TIMES_CHANCE * chance


@pytest.mark.parametrize("model", NAMES)
def test_stored_metrics_match_what_the_embeddings_give(demo_store, model):
    stored = demo_store.get_json(HELDOUT, model, artifacts.METRICS, "summary")
    paired = demo_store.pairs(HELDOUT, model, ["image", "text"])
    texts = demo_store.items(HELDOUT).set_index("item_id")["text"].reindex(paired.item_ids).tolist()
    scale = demo_store.model(model)["logit_scale"]
    fresh = compute_metrics(paired.vectors, ["image", "text"], scale, texts)
    assert stored["n"] == fresh["n"] == len(texts)
    for key in ("gap_distance", "loss", "alignment", "relative_gap", "matched_cosine"):
        assert stored[key] == pytest.approx(fresh[key], rel=1e-4, abs=1e-5), key
    for direction, recalls in fresh["recall_at_k"].items():
        assert stored["recall_at_k"][direction] == pytest.approx(recalls, abs=1e-9), direction


def test_every_dataset_and_model_has_precomputed_artefacts(demo_store):
    index = demo_store.artifacts()
    embedded = demo_store.coverage()[["dataset", "model"]].drop_duplicates()
    assert set(embedded["dataset"]) == set(demo_store.datasets()["name"])
    for dataset, model in embedded.itertuples(index=False):
        rows = index[(index["dataset"] == dataset) & (index["model"] == model)]
        kinds = set(rows["kind"])
        assert {artifacts.METRICS, artifacts.PROJECTION, artifacts.CLUSTERS} <= kinds, (dataset, model)


def test_readme_table_lists_each_model_and_chance(demo_store):
    text = (demo_store.path / "README.md").read_text()
    for name in NAMES:
        assert f"| {name} |" in text
    assert "| chance (N = " in text


@pytest.mark.parametrize("model", NAMES)
def test_gapscope_metrics_works_on_every_model(demo_store, model, capsys):
    assert main(["metrics", "--store", str(demo_store.path), "--dataset", HELDOUT, "--model", model]) == 0
    result = json.loads(capsys.readouterr().out)
    stored = demo_store.get_json(HELDOUT, model, artifacts.METRICS, "summary")
    assert result["model"] == model
    assert result["gap_distance"] == pytest.approx(stored["gap_distance"], rel=1e-6)
    assert result["recall_at_k"]["image_to_text"] == stored["recall_at_k"]["image_to_text"]
