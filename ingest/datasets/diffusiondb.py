"""DiffusionDB: its Parquet metadata (image_name, prompt, part_id, ...) plus image zips or folders; the prompt is the text.

Parts are found by name under the source (part-000001.zip or a part-000001/ folder, at any depth); rows whose part is
absent are left out unless all_parts is set (then they are missing files). Loose images next to the metadata work too.
Options: metadata (default the only metadata*.parquet), all_parts, max_pixels.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from dashboard.errors import GapscopeError
from ingest.base import Record
from ingest.datasets import decoding
from ingest.datasets.common import ListSource, folder, no_options, text_or_none

MODALITIES = ["image", "text"]
EXTRA = ["seed", "step", "cfg", "sampler", "width", "height", "user_name", "timestamp", "image_nsfw", "prompt_nsfw", "part_id"]


def _metadata(root: Path, metadata: str | None) -> pd.DataFrame:
    """The metadata table, with the columns DiffusionDB documents."""
    found = [root / metadata] if metadata else sorted(root.glob("metadata*.parquet"))
    if len(found) != 1 or not found[0].is_file():
        raise GapscopeError(f"{root}: expected one metadata*.parquet, found {len(found)}; pass the option metadata")
    try:
        frame = pd.read_parquet(found[0])
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several types
        raise GapscopeError(f"{found[0]}: unreadable Parquet ({str(exc).splitlines()[0]})") from exc
    missing = {"image_name", "prompt"} - set(frame.columns)
    if missing:
        raise GapscopeError(f"{found[0]}: missing column(s) {', '.join(sorted(missing))}")
    return frame


def _parts(root: Path) -> dict[str, Path]:
    """Part name (part-000001) -> its zip file or folder."""
    parts = {p.stem: p for p in root.rglob("part-*.zip")}
    parts.update({p.name: p for p in root.rglob("part-*") if p.is_dir()})
    return parts


def _ref(row: Any, parts: dict[str, Path], root: Path) -> str | None:
    """Where one image is: inside its part, or a loose file; None when its part is absent."""
    part = f"part-{int(row.part_id):06d}" if "part_id" in row._fields and pd.notna(row.part_id) else None
    if part in parts:
        where = parts[part]
        return decoding.member_ref(where, row.image_name) if where.is_file() else str(where / row.image_name)
    loose = root / "images" / row.image_name
    return str(loose if loose.exists() else root / row.image_name) if part is None or not parts else None


def open(source: str, metadata: str | None = None, all_parts: bool = False,  # noqa: A001
         max_pixels: int = decoding.MAX_PIXELS, **options: Any) -> ListSource:
    """Open a DiffusionDB download."""
    no_options("diffusiondb", options)
    root = folder(source)
    frame, parts = _metadata(root, metadata), _parts(root)
    extra = [c for c in EXTRA if c in frame.columns]
    records = []
    for row in frame.itertuples(index=False):
        ref = _ref(row, parts, root)
        if ref is None and not all_parts:
            continue
        records.append(Record(item_id=Path(str(row.image_name)).stem, text=text_or_none(row.prompt),
                              image_ref=ref or str(root / "images" / row.image_name),
                              extra={"image_name": row.image_name, **{c: _plain(getattr(row, c)) for c in extra}}))
    return ListSource(f"diffusiondb-{root.name}", list(MODALITIES), records, max_pixels)


def _plain(value: Any) -> Any:
    """A metadata value JSON can hold."""
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value.item() if hasattr(value, "item") else value
