"""Generic: a folder with a manifest (CSV, Parquet or JSONL) listing id, text and image/audio/molecule paths.

Columns: id (required), text (or caption), image, audio, microscopy, depth, thermal, imu (paths relative to the
folder, or absolute), molecule (SMILES). The modalities are the columns present; every other column is kept with
the item, as are the depth, thermal and IMU paths (resolved).
Options: manifest (default the only manifest.csv/.parquet/.jsonl in the folder), max_pixels.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from dashboard.errors import GapscopeError
from ingest.base import Record
from ingest.datasets import decoding
from ingest.datasets.common import ListSource, folder, no_options, text_or_none

READERS = {".csv": lambda p: pd.read_csv(p, dtype={"id": str}, keep_default_na=False, na_values=[""]),
           ".parquet": pd.read_parquet, ".jsonl": lambda p: pd.read_json(p, lines=True, dtype={"id": str})}
PATHS = ["image", "audio", "microscopy"]
KEPT_PATHS = ["depth", "thermal", "imu"]
MODALITIES = ["image", "microscopy", "text", "audio", "depth", "thermal", "imu", "molecule"]


def _manifest(root: Path, manifest: str | None) -> tuple[Path, pd.DataFrame]:
    """The manifest file and its table."""
    found = [root / manifest] if manifest else [p for p in sorted(root.glob("manifest.*")) if p.suffix in READERS]
    if len(found) != 1 or not found[0].is_file() or found[0].suffix not in READERS:
        raise GapscopeError(f"{root}: expected one manifest.csv, manifest.parquet or manifest.jsonl, found {len(found)}")
    try:
        frame = READERS[found[0].suffix](found[0])
    except Exception as exc:  # noqa: BLE001 - pandas readers raise several types
        raise GapscopeError(f"{found[0]}: unreadable manifest ({str(exc).splitlines()[0]})") from exc
    if "caption" in frame.columns and "text" not in frame.columns:
        frame = frame.rename(columns={"caption": "text"})
    if "id" not in frame.columns:
        raise GapscopeError(f"{found[0]}: needs an id column")
    return found[0], frame


def _path(root: Path, value: Any) -> str | None:
    """A file reference resolved against the folder."""
    text = text_or_none(value)
    return None if not text else str(Path(text) if Path(text).is_absolute() else root / text)


def open(source: str, manifest: str | None = None, max_pixels: int = decoding.MAX_PIXELS, **options: Any) -> ListSource:  # noqa: A001
    """Open a folder with a manifest."""
    no_options("generic", options)
    root = folder(source)
    path, frame = _manifest(root, manifest)
    modalities = [m for m in MODALITIES if m in frame.columns]
    if not modalities:
        raise GapscopeError(f"{path}: no modality column ({', '.join(MODALITIES)})")
    known = {"id", "text", "molecule", *PATHS}
    records = []
    for row in frame.to_dict("records"):
        image = _path(root, row.get("image")) or _path(root, row.get("microscopy"))
        records.append(Record(item_id=str(row["id"]), text=text_or_none(row.get("text")), image_ref=image,
                              audio_ref=_path(root, row.get("audio")), molecule=text_or_none(row.get("molecule")),
                              extra={k: _path(root, v) if k in KEPT_PATHS else v
                                     for k, v in row.items() if k not in known}))
    return ListSource(f"generic-{root.name}", modalities, records, max_pixels)
