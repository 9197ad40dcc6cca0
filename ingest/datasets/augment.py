"""Augmentation sweeps: chosen images transformed in `steps` steps per operation, the caption fixed.

Step s of n has amount a = s / n: rotate by 360·a degrees; blur with a Gaussian of radius 20·a pixels; noise adds
Gaussian noise of standard deviation 255·a (seeded by the step); hshift / vshift roll the image by a of its width /
height (pixels leaving one side come back on the other, so the sweep is a cycle like the rotation).
The source is an image file (caption from the option caption) or a folder in Amumo's export layout (prompts.txt,
line i pairing with images/i.jpg). Records reference the source image with the op and step; decoding applies it.
Options: items (ids in the folder, comma separated; default the first), ops (default all), steps (100), caption,
max_pixels.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageFilter

from dashboard.errors import GapscopeError
from ingest.base import Record
from ingest.datasets import decoding
from ingest.datasets.common import ListSource, no_options

OPS = ["rotate", "blur", "noise", "hshift", "vshift"]


def apply(image: Image.Image, op: str, step: int, steps: int) -> Image.Image:
    """The image after one step of one operation."""
    amount = step / steps
    if op == "rotate":
        return image.rotate(360.0 * amount, resample=Image.Resampling.BICUBIC)
    if op == "blur":
        return image.filter(ImageFilter.GaussianBlur(radius=20.0 * amount))
    pixels = np.asarray(image)
    if op == "noise":
        noise = np.random.default_rng(step).normal(0.0, 255.0 * amount, size=pixels.shape)
        return Image.fromarray(np.clip(pixels + noise, 0, 255).astype(np.uint8))
    if op == "hshift":
        return Image.fromarray(np.roll(pixels, round(amount * pixels.shape[1]), axis=1))
    if op == "vshift":
        return Image.fromarray(np.roll(pixels, round(amount * pixels.shape[0]), axis=0))
    raise GapscopeError(f"augment: unknown op {op!r} (known: {', '.join(OPS)})")


class SweepSource(ListSource):
    """A ListSource whose images are transformed on decoding."""

    def decode(self, record: Record, modality: str) -> Any:
        """The decoded input; images get the record's operation at its step."""
        decoded = super().decode(record, modality)
        if modality != "image":
            return decoded
        return apply(decoded, record.extra["op"], record.extra["step"], record.extra["steps"])


def _bases(path: Path, items: Any, caption: str | None) -> list[tuple[str, str, str | None]]:
    """(id, image path, caption) of each chosen image."""
    if path.is_file():
        return [(path.stem, str(path), caption)]
    prompts = path / "prompts.txt"
    if not prompts.is_file() or not (path / "images").is_dir():
        raise GapscopeError(f"{path}: not an image file nor a folder with prompts.txt and images/")
    lines = prompts.read_text(encoding="utf-8").splitlines()
    chosen = [str(i).strip() for i in (items.split(",") if isinstance(items, str) else items or ["0"])]
    bad = [i for i in chosen if not i.isdigit() or int(i) >= len(lines)]
    if bad:
        raise GapscopeError(f"{path}: unknown item(s) {', '.join(bad)} (ids 0..{len(lines) - 1})")
    return [(i, str(path / "images" / f"{i}.jpg"), caption if caption is not None else lines[int(i)].strip()) for i in chosen]


def open(source: str, items: Any = None, ops: Any = None, steps: int = 100, caption: str | None = None,  # noqa: A001
         max_pixels: int = decoding.MAX_PIXELS, **options: Any) -> SweepSource:
    """Open an augmentation sweep of chosen images."""
    no_options("augment", options)
    path = Path(source).expanduser().resolve()
    if not path.exists():
        raise GapscopeError(f"{path}: not found")
    chosen_ops = [o.strip() for o in (ops.split(",") if isinstance(ops, str) else ops or OPS)]
    unknown = [o for o in chosen_ops if o not in OPS]
    if unknown or int(steps) < 1:
        raise GapscopeError(f"augment: unknown op(s) {', '.join(unknown)} or steps {steps} < 1 (ops: {', '.join(OPS)})")
    records = [Record(item_id=f"{base}:{op}:{step:03d}", text=text, image_ref=image,
                      extra={"source_item": base, "op": op, "step": step, "steps": int(steps), "amount": step / int(steps)})
               for base, image, text in _bases(path, items, caption) for op in chosen_ops for step in range(int(steps))]
    return SweepSource(f"augment-{path.stem}", ["image", "text"], records, max_pixels)
