"""End-to-end fixtures: a synthetic store (precomputed artefacts), `streamlit run app.py` on a free port with
GAPSCOPE_STORE pointing at it, and Debian's headless Chromium driven by Playwright (never `playwright install`)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from browser_helpers import BIG_ITEMS, N_ITEMS, free_port, served

from dashboard.store import Store
from dashboard.synthetic import build_synthetic_store

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
@pytest.fixture(scope="session")
def store_path(tmp_path_factory) -> str:
    """A synthetic store of N_ITEMS items, two models, with the precomputed artefacts the pages read."""
    path = tmp_path_factory.mktemp("browser") / "store"
    store = build_synthetic_store(path, n=N_ITEMS, dim=16)
    from dashboard.precompute import precompute

    for model in ("synth-a", "synth-b"):
        precompute(store, "synthetic", model, umap=False, tsne=False)
    return str(path)


@pytest.fixture(scope="session")
def store(store_path) -> Store:
    """The same store, open read-only for expectations."""
    return Store.open(store_path)


def _serve(store_path: str, log: Path):
    """Run the dashboard on a store; yields its base URL and stops it (by its process id) afterwards."""
    port = free_port()
    env = dict(os.environ, GAPSCOPE_STORE=store_path, HF_HUB_OFFLINE="1", PYTHONPATH=str(REPO))
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
               "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
               "--server.fileWatcherType", "none"]
    with served(command, REPO, env, port, log) as url:
        yield url


@pytest.fixture(scope="session")
def server(store_path, tmp_path_factory) -> str:
    """The dashboard's base URL on the small store."""
    yield from _serve(store_path, tmp_path_factory.mktemp("server") / "streamlit.log")


@pytest.fixture(scope="session")
def big_store_path(tmp_path_factory) -> str:
    """A synthetic store of BIG_ITEMS (20,000) pairs, one model, with its whole-dataset heatmap stored (as an ingest
    leaves it): shown all in view, the heatmap is aggregated and zooming reads the embeddings."""
    from dashboard.stored_heatmap import store_views

    path = tmp_path_factory.mktemp("browser-big") / "store"
    store = build_synthetic_store(path, n=BIG_ITEMS, dim=32, models=("synth-a",))
    store_views(store, "synthetic", "synth-a")
    return str(path)


@pytest.fixture(scope="session")
def big_server(big_store_path, tmp_path_factory) -> str:
    """The dashboard's base URL on the 20,000-pair store."""
    yield from _serve(big_store_path, tmp_path_factory.mktemp("server-big") / "streamlit.log")


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh browser page (own context, so no state is shared between tests)."""
    context = browser.new_context(viewport={"width": 1600, "height": 1200})
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots go (gitignored)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
