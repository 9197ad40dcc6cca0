"""Fixtures: a synthetic store (two models, image/text) and a small store of hand-written captions."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dashboard.store import Store
from dashboard.synthetic import build_synthetic_store

CAPTIONS = {
    "d1": "A dog runs on the beach",
    "d2": "two DOGS? no, one dog",
    "h1": "a hot dog with mustard",
    "h2": "A dog eating a hot dog",
    "h3": "hotdog stand at night",
    "c1": "a cat on a sofa",
    "c2": "underdog wins the game",
}


@pytest.fixture(scope="session")
def store_path(tmp_path_factory) -> str:
    """A synthetic store of 120 items embedded by synth-a and synth-b."""
    path = tmp_path_factory.mktemp("sql") / "store"
    build_synthetic_store(path, n=120, dim=16)
    return str(path)


@pytest.fixture(scope="session")
def caption_store(tmp_path_factory) -> str:
    """A store whose captions test the dog / hot dog example, with three modalities and extra fields."""
    path = tmp_path_factory.mktemp("captions") / "store"
    store = Store.create(path)
    store.add_dataset("captions", ["image", "text", "audio"])
    ids = list(CAPTIONS)
    store.add_items("captions", pd.DataFrame({
        "item_id": ids, "text": list(CAPTIONS.values()), "split": ["train"] * 4 + ["test"] * 3,
        "score": [0.5, 1, 2, 3, 4, 5, 6], "flag": [True, False] * 3 + [True], "tags": [["a"], None, None, None, None, None, {"k": 1}],
    }))
    store.add_model("tri", ["image", "text", "audio"], 8)
    rng = np.random.default_rng(1)
    for modality in ["image", "text", "audio"]:
        store.add_embeddings("captions", "tri", modality, ids, rng.normal(size=(len(ids), 8)).astype(np.float32))
    store.add_model("duo", ["image", "text"], 8)
    for modality in ["image", "text"]:
        store.add_embeddings("captions", "duo", modality, ids[:5], rng.normal(size=(5, 8)).astype(np.float32))
    return str(path)


def _snapshot(path: str | Path) -> dict[str, bytes]:
    """Every file of a folder and its bytes."""
    root = Path(path)
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def snapshot():
    """A function giving every file of a folder and its bytes."""
    return _snapshot
