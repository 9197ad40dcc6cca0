"""Stores for the dashboard tests (real LanceDB + DuckDB stores built with dashboard.synthetic and the Store API,
one model precomputed with dashboard.precompute) and an AppTest factory for app.py."""
from __future__ import annotations

import io
import wave
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from dashboard.precompute import precompute
from dashboard.store import Store
from dashboard.synthetic import build_synthetic_store, synthetic_vectors

APP = Path(__file__).resolve().parents[2] / "app.py"
TIMEOUT = 180


def png(colour: tuple[int, int, int], size: int = 24) -> bytes:
    """A small PNG of one colour."""
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def custom_store(path: Path, dataset: str, items: pd.DataFrame, modalities: list[str],
                 models: tuple[str, ...] = ("synth-a", "synth-b"), dim: int = 16, kind: str = "test") -> str:
    """A store (created or extended) with the given items embedded by each model (synthetic vectors)."""
    store = Store.create(path)
    store.add_dataset(dataset, modalities, kind=kind)
    store.add_items(dataset, items)
    ids = items["item_id"].astype(str).tolist()
    for k, model in enumerate(models):
        store.add_model(model, modalities, dim, logit_scale=50.0, family="synthetic")
        _, vectors = synthetic_vectors(len(ids), dim, modalities, seed=k, gap=0.3 + 0.3 * k)
        for modality, matrix in vectors.items():
            store.add_embeddings(dataset, model, modality, ids, matrix)
    return str(path)


@pytest.fixture(scope="session")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    """200 image-text pairs; synth-a has precomputed artefacts (t-SNE, no UMAP), synth-b has none."""
    path = tmp_path_factory.mktemp("stores") / "synthetic"
    store = build_synthetic_store(path, n=200, dim=32)
    precompute(store, "synthetic", "synth-a", umap=False, tsne=True)
    return str(path)


@pytest.fixture(scope="session")
def big_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """700 pairs: more than the heatmap shows item by item, so it is aggregated into block means."""
    path = tmp_path_factory.mktemp("stores") / "big"
    build_synthetic_store(path, n=700, dim=16, models=("synth-a",))
    return str(path)


@pytest.fixture(scope="session")
def partial_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """50 items embedded by synth-a; synth-c embedded only the first 30 of them."""
    path = tmp_path_factory.mktemp("stores") / "partial"
    store = build_synthetic_store(path, n=50, dim=16, models=("synth-a",))
    store.add_model("synth-c", ["image", "text"], 16, logit_scale=10.0)
    _, vectors = synthetic_vectors(30, 16, ["image", "text"], seed=5)
    for modality, matrix in vectors.items():
        store.add_embeddings("synthetic", "synth-c", modality, [str(i) for i in range(30)], matrix)
    return str(path)


@pytest.fixture(scope="session")
def triple_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Three modalities (image, text, audio), 60 items, no artefacts."""
    path = tmp_path_factory.mktemp("stores") / "triple"
    build_synthetic_store(path, n=60, dim=16, modalities=("image", "text", "audio"), dataset="triplet")
    return str(path)


@pytest.fixture(scope="session")
def media_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Items with an image file, a WAV file, a SMILES molecule (one invalid) and captions."""
    root = tmp_path_factory.mktemp("media")
    image = root / "red.png"
    image.write_bytes(png((200, 10, 10), 40))
    audio = root / "tone.wav"
    with wave.open(str(audio), "wb") as out:
        out.setnchannels(1), out.setsampwidth(2), out.setframerate(8000)
        out.writeframes((np.sin(np.arange(800) / 3) * 8000).astype("<i2").tobytes())
    n = 12
    items = pd.DataFrame({
        "item_id": [f"m{i}" for i in range(n)], "text": [f"molecule caption {i}" for i in range(n)],
        "image_ref": [str(image)] * n, "audio_ref": [str(audio)] * n,
        "molecule": ["not a smiles ((" if i == 1 else "CC(=O)Oc1ccccc1C(=O)O" for i in range(n)],
        "thumbnail": [png((10 * i, 100, 50)) for i in range(n)]})
    return custom_store(root / "store", "media", items, ["image", "molecule"])


@pytest.fixture(scope="session")
def sweep_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """An augmentation sweep: source image 0 rotated and blurred in 20 steps each, caption fixed."""
    rows = [{"item_id": f"0:{op}:{step:03d}", "text": "a dog on a bed", "op": op, "step": step, "steps": 20,
             "source_item": "0", "thumbnail": png((step * 12, 80, 160 if op == "blur" else 20))}
            for op in ("rotate", "blur") for step in range(20)]
    path = tmp_path_factory.mktemp("stores") / "sweep"
    custom_store(path, "augment-demo", pd.DataFrame(rows), ["image", "text"])
    for op in ("hshift", "noise"):  # the demo's layout: one dataset of kind "sweep" per image and op
        items = pd.DataFrame({"item_id": [f"{k:03d}" for k in range(15)], "text": "a ginger cat", "op": op,
                              "step": range(15), "value": np.linspace(0, 1, 15), "source_image": "cat",
                              "thumbnail": [png((k * 15, 0, 0)) for k in range(15)]})
        custom_store(path, f"sweep-{op}-cat", items, ["image", "text"], models=("synth-a",), kind="sweep")
    return str(path)


@pytest.fixture
def app(store_path: str, monkeypatch: pytest.MonkeyPatch):
    """A factory: AppTest of app.py on `page` with the given URL parameters (store from $GAPSCOPE_STORE unless
    the `store` parameter is given)."""
    monkeypatch.setenv("GAPSCOPE_STORE", store_path)

    def make(page: str | None = None, **params: str) -> AppTest:
        at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
        at.query_params.update(params)
        at.run()
        if page:
            at.switch_page(f"pages/{page}.py").run()
        return at

    return make
