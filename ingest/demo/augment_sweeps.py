"""Augmentation sweeps as in the Amumo article (Humer et al. 2024, "Augmentations"): one image, 100 steps of one
augmentation, the caption kept fixed, so the heatmaps show how far an image tower's view of it drifts.

Each source image is first padded to a white square of 160 px (the image tower's input), then per step:
rotate   angle 360 k / 100 degrees (0 to 356.4), corners filled white;
blur     Gaussian blur, radius 8 k / 99 pixels (0 to 8);
noise    additive Gaussian noise, standard deviation 0.8 k / 99 of the 0-255 range, clipped; one fixed seed per step;
hshift   horizontal shift by (k / 99 - 0.5) of the width (-50% to +50%), filled white;
vshift   the same vertically.
Sources: photos from `skimage.data` and clip-art drawings, each with its own caption.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterator

import numpy as np

from ingest.demo.towers import IMAGE_SIZE, square_on_white

OPS = ("rotate", "blur", "noise", "hshift", "vshift")
STEPS = 100
WHITE = (255, 255, 255)
PHOTOS = {
    "astronaut": "a portrait of an astronaut in a white spacesuit in front of the american flag",
    "chelsea": "a photo of a ginger tabby cat",
    "coffee": "a cup of coffee on a saucer",
}


@dataclass(frozen=True)
class SweepSource:
    """An image to sweep: its short name, fixed caption, reference and loader."""

    name: str
    caption: str
    ref: str
    load: Callable[[], Any]


def photo_sources(names: tuple[str, ...] = tuple(PHOTOS)) -> list[SweepSource]:
    """skimage.data photos with hand-written captions."""
    def loader(name: str) -> Callable[[], Any]:
        def load() -> Any:
            import skimage.data
            from PIL import Image

            return Image.fromarray(getattr(skimage.data, name)()).convert("RGB")
        return load
    return [SweepSource(n, PHOTOS[n], f"skimage.data.{n}", loader(n)) for n in names]


def sweep_values(op: str, steps: int = STEPS) -> np.ndarray:
    """The augmentation parameter at each step."""
    k = np.arange(steps, dtype=np.float64)
    last = max(steps - 1, 1)
    values = {"rotate": 360.0 * k / steps, "blur": 8.0 * k / last, "noise": 0.8 * k / last,
              "hshift": k / last - 0.5, "vshift": k / last - 0.5}
    if op not in values:
        raise ValueError(f"augmentation {op!r}: unknown (known: {', '.join(OPS)})")
    return values[op]


def augment(image: Any, op: str, value: float, seed: int) -> Any:
    """One augmented copy of a square RGB image (the tower input size)."""
    from PIL import Image, ImageFilter

    if op == "rotate":
        return image.rotate(value, resample=Image.Resampling.BILINEAR, fillcolor=WHITE)
    if op == "blur":
        return image.filter(ImageFilter.GaussianBlur(value))
    if op == "noise":
        array = np.asarray(image, dtype=np.float32)
        noisy = array + np.random.default_rng(seed).normal(0.0, value * 255.0, array.shape)
        return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))
    dx, dy = (value * image.size[0], 0.0) if op == "hshift" else (0.0, value * image.size[1])
    return image.transform(image.size, Image.Transform.AFFINE, (1, 0, -dx, 0, 1, -dy), fillcolor=WHITE)


def sweep_images(source: SweepSource, op: str, steps: int = STEPS) -> Iterator[Any]:
    """The augmented images of one sweep, in step order."""
    base = square_on_white(source.load(), IMAGE_SIZE)
    for k, value in enumerate(sweep_values(op, steps)):
        yield augment(base, op, float(value), seed=k)


def sweep_dataset_name(op: str, source: str) -> str:
    """Store dataset name of one sweep, e.g. sweep-rotate-astronaut."""
    return f"sweep-{op}-{source}"
