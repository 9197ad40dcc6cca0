"""MSCOCO: a captions JSON (COCO format) plus an image folder; every caption kept, one paired (val2017 is the paper's).

Options: captions (the JSON; default annotations/captions_*.json or the only *.json in the source), images (the
folder; default <source>/<split> from the JSON name, else <source>/images, else the source), caption_index
("first", an integer, or "random-seeded" with option seed), max_pixels.
"""
from __future__ import annotations

import json
import random
from collections import defaultdict
from pathlib import Path
from typing import Any

from dashboard.errors import GapscopeError
from ingest.base import Record
from ingest.datasets import decoding
from ingest.datasets.common import ListSource, folder, no_options

MODALITIES = ["image", "text"]


def _captions_file(root: Path, captions: str | None) -> Path:
    """The captions JSON named or found under the source."""
    if captions:
        path = Path(captions) if Path(captions).is_absolute() else root / captions
        if not path.is_file():
            raise GapscopeError(f"{path}: captions JSON not found")
        return path
    found = sorted(root.glob("annotations/captions_*.json")) or sorted(root.glob("*.json"))
    if len(found) != 1:
        raise GapscopeError(f"{root}: expected one captions JSON (annotations/captions_*.json), found {len(found)}; "
                            "pass the option captions")
    return found[0]


def _image_folder(root: Path, split: str, images: str | None) -> Path:
    """The folder that holds the image files."""
    if images:
        return folder(images if Path(images).is_absolute() else root / images)
    for candidate in (root / split, root / "images" / split, root / "images"):
        if candidate.is_dir():
            return candidate
    return root


def _pick(captions: list[str], index: Any, rng: random.Random) -> tuple[str | None, int]:
    """The paired caption and its index among the image's captions."""
    if not captions:
        return None, -1
    if index in (None, "first"):
        return captions[0], 0
    if index == "random-seeded":
        k = rng.randrange(len(captions))
        return captions[k], k
    try:
        k = int(index)
    except (TypeError, ValueError):
        raise GapscopeError(f"mscoco: caption_index {index!r} is not 'first', 'random-seeded' or an integer") from None
    return captions[min(k, len(captions) - 1)], min(k, len(captions) - 1)


def _load(path: Path) -> dict[str, Any]:
    """The parsed captions JSON."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise GapscopeError(f"{path}: unreadable captions JSON ({str(exc).splitlines()[0]})") from exc
    if not isinstance(data, dict) or "images" not in data or "annotations" not in data:
        raise GapscopeError(f"{path}: not a COCO captions file (needs 'images' and 'annotations')")
    return data


def open(source: str, captions: str | None = None, images: str | None = None, caption_index: Any = "first",  # noqa: A001
         seed: int = 0, max_pixels: int = decoding.MAX_PIXELS, **options: Any) -> ListSource:
    """Open a COCO captions set."""
    no_options("mscoco", options)
    given = Path(source).expanduser().resolve()
    if given.is_file():
        path, root = given, given.parent.parent if given.parent.name == "annotations" else given.parent
    else:
        root = folder(given)
        path = _captions_file(root, captions)
    data = _load(path)
    split = path.stem.removeprefix("captions_")
    image_dir = _image_folder(root, split, images)
    by_image: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for note in data["annotations"]:
        by_image[note["image_id"]].append((note.get("id", 0), str(note.get("caption", "")).strip()))
    rng = random.Random(int(seed))
    records = []
    for image in sorted(data["images"], key=lambda i: i["id"]):
        texts = [c for _, c in sorted(by_image.get(image["id"], []))]
        text, k = _pick(texts, caption_index, rng)
        records.append(Record(item_id=str(image["id"]), text=text, image_ref=str(image_dir / image["file_name"]),
                              extra={"captions": texts, "caption_index": k, "file_name": image["file_name"],
                                     "width": image.get("width"), "height": image.get("height")}))
    return ListSource(f"mscoco-{split}", list(MODALITIES), records, max_pixels)
