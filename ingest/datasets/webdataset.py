"""WebDataset: tar shards whose samples are files sharing a key (key.jpg/png/webp + key.txt and/or key.json).

The source is a .tar file or a folder of them (in name order). The text is key.txt, else the json's caption/text
field; the json's other fields are kept. Images are decoded from the shard on demand.
Options: max_pixels.
"""
from __future__ import annotations

import json
import tarfile
from pathlib import Path
from typing import Any

from dashboard.errors import GapscopeError
from ingest.base import Record
from ingest.datasets import decoding
from ingest.datasets.common import ListSource, no_options

IMAGES = ("jpg", "jpeg", "png", "webp")


def _shards(source: Path) -> list[Path]:
    """The tar files of the source."""
    shards = [source] if source.is_file() else sorted(source.glob("*.tar"))
    if not shards:
        raise GapscopeError(f"{source}: no WebDataset .tar shards")
    return shards


def _samples(shard: Path) -> dict[str, dict[str, Any]]:
    """Key -> {extension: member name or text} for one shard, in shard order."""
    samples: dict[str, dict[str, Any]] = {}
    try:
        with tarfile.open(shard) as tar:
            for member in tar:
                if not member.isfile():
                    continue
                directory, _, base = member.name.rpartition("/")
                stem, _, ext = base.partition(".")
                key = f"{directory}/{stem}" if directory else stem
                entry = samples.setdefault(key, {})
                ext = ext.lower()
                if ext in ("txt", "json"):
                    entry[ext] = tar.extractfile(member).read().decode("utf-8", errors="replace")
                elif ext in IMAGES:
                    entry["image"] = member.name
    except (OSError, tarfile.TarError) as exc:
        raise GapscopeError(f"{shard}: unreadable tar shard ({str(exc).splitlines()[0]})") from exc
    return samples


def _record(shard: Path, key: str, entry: dict[str, Any]) -> Record:
    """One sample as a Record."""
    meta: dict[str, Any] = {}
    if "json" in entry:
        try:
            loaded = json.loads(entry["json"])
            meta = loaded if isinstance(loaded, dict) else {"json": loaded}
        except ValueError:
            meta = {"json": entry["json"]}
    text = entry.get("txt", meta.pop("caption", None) or meta.pop("text", None))
    image = decoding.member_ref(shard, entry["image"]) if "image" in entry else None
    return Record(item_id=key, text=text, image_ref=image, extra={"shard": shard.name, **meta})


def open(source: str, max_pixels: int = decoding.MAX_PIXELS, **options: Any) -> ListSource:  # noqa: A001
    """Open a shard or a folder of shards."""
    no_options("webdataset", options)
    path = Path(source).expanduser().resolve()
    if not path.exists():
        raise GapscopeError(f"{path}: not found")
    records = [_record(shard, key, entry) for shard in _shards(path) for key, entry in _samples(shard).items()]
    return ListSource(f"webdataset-{path.stem}", ["image", "text"], records, max_pixels)
