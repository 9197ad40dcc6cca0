"""Small JPEG thumbnails for hover and previews, with a guard against decompression bombs."""
from __future__ import annotations

import io
import warnings
from pathlib import Path

from PIL import Image

from dashboard.errors import GapscopeError

MAX_PIXELS = 64_000_000


def open_image(path: str | Path, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Open an image as RGB, refusing files that are not images or have more than `max_pixels` pixels."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                if image.width * image.height > max_pixels:
                    raise GapscopeError(f"{path}: oversized image ({image.width}x{image.height} pixels)")
                image.draft("RGB", (1024, 1024))
                return image.convert("RGB")
    except (OSError, Image.DecompressionBombError, Image.DecompressionBombWarning, SyntaxError, ValueError) as exc:
        raise GapscopeError(f"{path}: not a readable image ({exc})".splitlines()[0]) from exc


def thumbnail_bytes(image: Image.Image, size: int = 96, quality: int = 80) -> bytes:
    """A JPEG of the image fitted into size x size."""
    copy = image.copy()
    copy.thumbnail((size, size))
    buffer = io.BytesIO()
    copy.convert("RGB").save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()
