"""Fixtures of the demo tests: the committed store, and a small slice rebuilt by the same code in a temp folder."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from dashboard.store import Store

REPO_ROOT = Path(__file__).resolve().parents[2]
DEMO_STORE = REPO_ROOT / "data" / "demo"
SLICE = 60


@pytest.fixture(scope="session")
def demo_store() -> Store:
    """The committed demo store, read-only."""
    return Store.open(DEMO_STORE)


@pytest.fixture(scope="session")
def slice_build(tmp_path_factory) -> dict:
    """A slice rebuilt from scratch: 60 drawings, 3 epochs, one short photo sweep, no UMAP/t-SNE."""
    from ingest.demo.build import BuildOptions, build_demo

    folder = tmp_path_factory.mktemp("demo_slice")
    options = BuildOptions(cache=folder / "cache", heads_dir=folder / "heads", limit=SLICE, photos=("chelsea",),
                           cliparts=(), steps=6, umap=False, tsne=False)
    options = replace(options, config=replace(options.config, epochs=3, batch_size=16))
    result = build_demo(folder / "store", options)
    return {"result": result, "store": Store.open(folder / "store"), "options": options, "folder": folder}
