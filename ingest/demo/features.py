"""Frozen-tower features of the demo data, computed once and cached as .npz files outside the repository.

The cache key hashes the towers, the preprocessing and the exact inputs (ids, files, captions or sweep specs),
so a changed input recomputes and an unchanged one is read back in a second.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from ingest.base import BadItem
from ingest.demo import towers
from ingest.demo.openclipart import Drawing, load_png

FEATURE_VERSION = 2
CHUNK = 256
PREFETCH = 16


def default_cache_dir() -> Path:
    """$GAPSCOPE_CACHE, else $XDG_CACHE_HOME/gapscope/demo, else ~/.cache/gapscope/demo."""
    if os.environ.get("GAPSCOPE_CACHE"):
        return Path(os.environ["GAPSCOPE_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "gapscope" / "demo"


class Towers:
    """Both towers, loaded on first use (a warm cache never loads them)."""

    def __init__(self, device: str = "cpu") -> None:
        self.device = device
        self._text: towers.TextTower | None = None
        self._image: towers.ImageTower | None = None

    @property
    def text(self) -> towers.TextTower:
        """The text tower."""
        if self._text is None:
            self._text = towers.TextTower(self.device)
        return self._text

    @property
    def image(self) -> towers.ImageTower:
        """The image tower."""
        if self._image is None:
            self._image = towers.ImageTower(self.device)
        return self._image


@dataclass
class Features:
    """Tower features of paired items; `ok[i]` is False for an item whose image could not be used."""

    item_ids: list[str]
    image: np.ndarray
    text: np.ndarray
    ok: np.ndarray
    skipped: list[str]


def _key(kind: str, spec: Any) -> str:
    """Cache file stem for one input spec."""
    blob = json.dumps([FEATURE_VERSION, towers.TEXT_TOWER, towers.IMAGE_TOWER, towers.IMAGE_SIZE, spec], sort_keys=True)
    return f"{kind}-{hashlib.sha1(blob.encode()).hexdigest()[:16]}"


def drawing_features(drawings: list[Drawing], cache: Path, models: Towers) -> Features:
    """Image and caption features of drawings, cached per chunk of CHUNK drawings (an interrupted run resumes);
    unreadable PNGs are marked not ok and reported."""
    parts = []
    for start in range(0, len(drawings), CHUNK):
        parts.append(_drawing_chunk(drawings[start:start + CHUNK], cache, models))
        print(f"  openclipart: {min(start + CHUNK, len(drawings))}/{len(drawings)} images", file=sys.stderr, flush=True)
    text = text_features([d.caption for d in drawings], cache, models)
    if not parts:
        return Features([], np.zeros((0, towers.IMAGE_DIM), np.float32), text, np.zeros(0, bool), [])
    return Features([d.item_id for d in drawings], np.concatenate([p["image"] for p in parts]), text,
                    np.concatenate([p["ok"] for p in parts]), [str(x) for p in parts for x in p["skipped"]])


def _prepare(drawing: Drawing) -> Any:
    """The image tower input of a drawing, or the BadItem that stopped it."""
    try:
        return towers.image_tensor(load_png(drawing.png))
    except BadItem as exc:
        return exc


def _prefetched(drawings: list[Drawing]) -> Iterator[Any]:
    """Prepared inputs in order, decoded and resized by two threads (PIL releases the GIL), PREFETCH ahead at most."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        pending: deque = deque()
        for drawing in drawings:
            pending.append(pool.submit(_prepare, drawing))
            if len(pending) > PREFETCH:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _drawing_chunk(drawings: list[Drawing], cache: Path, models: Towers) -> dict[str, np.ndarray]:
    """Image features of one chunk of drawings (cached): image (zeros where not ok), ok, skipped."""
    path = Path(cache) / f"{_key('openclipart', [(d.item_id, str(d.png)) for d in drawings])}.npz"
    if not path.exists():
        prepared = list(_prefetched(drawings))
        ok = np.array([not isinstance(p, BadItem) for p in prepared], dtype=bool)
        image = np.zeros((len(drawings), towers.IMAGE_DIM), np.float32)
        image[ok] = models.image.features([p for p in prepared if not isinstance(p, BadItem)])
        skipped = np.array([str(p) for p in prepared if isinstance(p, BadItem)], dtype=str)
        _save(path, image=image, ok=ok, skipped=skipped)
    data = np.load(path)
    return {"image": data["image"], "ok": data["ok"], "skipped": data["skipped"]}


def image_list_features(kind: str, spec: Any, images: Callable[[], Iterator[Any]], cache: Path,
                        models: Towers) -> np.ndarray:
    """Features of generated images described by `spec` (cached under its hash)."""
    path = Path(cache) / f"{_key(kind, spec)}.npz"
    if not path.exists():
        _save(path, image=towers.image_features(models.image, images()))
    return np.load(path)["image"]


def text_features(texts: list[str], cache: Path, models: Towers) -> np.ndarray:
    """Caption features (cached)."""
    path = Path(cache) / f"{_key('text', texts)}.npz"
    if not path.exists():
        _save(path, text=models.text.features(texts))
    return np.load(path)["text"]


def _save(path: Path, **arrays: np.ndarray) -> None:
    """Write an .npz atomically (a killed build leaves no half file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial.npz")
    np.savez(partial, **arrays)
    partial.replace(path)
