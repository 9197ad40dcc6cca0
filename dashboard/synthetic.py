"""Synthetic stores for tests and benchmarks: clustered paired embeddings with a tunable modality gap.

Each item draws a topic centre c (one of `topics`); modality m gets normalise(c + noise + offset_m), where the
offsets are orthogonal, so the gap distance grows with `gap` exactly as in a contrastive model's cone effect.
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from dashboard.store import Store

WORDS = ["dog", "cat", "pizza", "train", "surf", "tennis", "bus", "horse", "kite", "plane", "hot", "bird"]


def synthetic_vectors(n: int, dim: int, modalities: list[str], seed: int = 0, topics: int = 12,
                      gap: float = 0.6, noise: float = 0.5) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Topic per item and L2-normalised embeddings per modality."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(topics, dim))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    topic = rng.integers(0, topics, size=n)
    offsets = np.linalg.qr(rng.normal(size=(dim, len(modalities))))[0].T * gap
    out = {}
    for k, modality in enumerate(modalities):
        x = centres[topic] + noise * rng.normal(size=(n, dim)) / np.sqrt(dim) + offsets[k]
        out[modality] = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    return topic, out


def _thumbnail(topic: int, size: int = 32) -> bytes:
    """A small PNG whose colour encodes the topic."""
    from PIL import Image

    hue = (topic * 37) % 256
    image = Image.new("RGB", (size, size), (hue, 255 - hue, (hue * 3) % 256))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def build_synthetic_store(path: str | Path, n: int = 200, dim: int = 64, models: tuple[str, ...] = ("synth-a", "synth-b"),
                          modalities: tuple[str, ...] = ("image", "text"), dataset: str = "synthetic",
                          seed: int = 0, thumbnails: bool = True) -> Store:
    """Create (or extend) a store with one dataset of n items embedded by each model."""
    store = Store.create(path)
    store.add_dataset(dataset, list(modalities), kind="synthetic", source="dashboard.synthetic")
    topic, _ = synthetic_vectors(n, dim, list(modalities), seed)
    thumbs = {t: _thumbnail(int(t)) for t in np.unique(topic)}
    texts = [f"a {WORDS[t % len(WORDS)]} number {i}" for i, t in enumerate(topic)]
    store.add_items(dataset, pd.DataFrame({
        "item_id": [str(i) for i in range(n)], "text": texts, "topic": topic.astype(int),
        "thumbnail": [thumbs[t] if thumbnails else None for t in topic],
    }))
    for k, model in enumerate(models):
        store.add_model(model, list(modalities), dim, logit_scale=100.0 / (k + 1), family="synthetic")
        _, vectors = synthetic_vectors(n, dim, list(modalities), seed, gap=0.3 + 0.3 * k)
        for modality, matrix in vectors.items():
            store.add_embeddings(dataset, model, modality, [str(i) for i in range(n)], matrix)
    return store
