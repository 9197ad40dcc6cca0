"""Frozen-tower features of the demo data, computed once and cached as .npz files outside the repository.

The cache key hashes the towers, the preprocessing and the exact inputs (ids, files, captions or sweep specs),
so a changed input recomputes and an unchanged one is read back in a second.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from ingest.base import BadItem
from ingest.demo import towers
from ingest.demo.openclipart import Drawing, load_png

FEATURE_VERSION = 2


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


def _progress(label: str, total: int) -> Callable[[int], None]:
    """A progress printer to stderr."""
    def report(done: int) -> None:
        if done % 1024 < 64 or done == total:
            print(f"  {label}: {done}/{total} images", file=sys.stderr, flush=True)
    return report


def drawing_features(drawings: list[Drawing], cache: Path, models: Towers) -> Features:
    """Image and caption features of drawings (cached); unreadable PNGs are marked not ok and reported."""
    spec = [(d.item_id, str(d.png), d.caption) for d in drawings]
    path = Path(cache) / f"{_key('openclipart', spec)}.npz"
    if not path.exists():
        skipped: list[str] = []
        ok = np.ones(len(drawings), dtype=bool)

        def images() -> Iterator[Any]:
            for k, drawing in enumerate(drawings):
                try:
                    yield load_png(drawing.png)
                except BadItem as exc:
                    ok[k] = False
                    skipped.append(str(exc))

        image = towers.image_features(models.image, images(), progress=_progress("openclipart", len(drawings)))
        full = np.zeros((len(drawings), towers.IMAGE_DIM), np.float32)
        full[ok] = image
        text = models.text.features([d.caption for d in drawings])
        _save(path, image=full, text=text, ok=ok, skipped=np.array(skipped, dtype=str))
    data = np.load(path)
    return Features([d.item_id for d in drawings], data["image"], data["text"], data["ok"], list(data["skipped"]))


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
