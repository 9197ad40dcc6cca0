"""Guarded image opening (decompression bombs, corrupt files) and small JPEG thumbnails for hover and previews.

The one place gapscope opens untrusted images: the Amumo importer, the ingest decoders and the demo build all
call `open_image` (or `load_image` for single-channel maps), which checks the pixel count from the header before
any pixel is decoded.
"""
from __future__ import annotations

import io
import re
import warnings
from pathlib import Path
from typing import BinaryIO

from PIL import Image

from dashboard.errors import GapscopeError

MAX_PIXELS = 64_000_000


class OversizedImage(GapscopeError):
    """An image with more pixels than allowed (a possible decompression bomb)."""


def on_white(image: Image.Image) -> Image.Image:
    """RGB version of an image, transparent parts painted white."""
    if image.mode in ("RGBA", "LA", "P", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        canvas.alpha_composite(rgba)
        return canvas.convert("RGB")
    return image.convert("RGB")


def open_image(source: str | Path | BinaryIO, max_pixels: int = MAX_PIXELS, draft: int | None = None) -> Image.Image:
    """An RGB image (transparency on white); OversizedImage past `max_pixels`, GapscopeError if unreadable.

    With `draft`, JPEGs are decoded at the smallest DCT scale (1/2, 1/4, 1/8) keeping both sides >= draft pixels."""
    return on_white(load_image(source, max_pixels, draft))


def load_image(source: str | Path | BinaryIO, max_pixels: int = MAX_PIXELS, draft: int | None = None) -> Image.Image:
    """A decoded image in its own mode (e.g. 16-bit "I;16" depth maps), with open_image's guards."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(source)
            width, height = image.size
            if width * height > max_pixels:
                raise OversizedImage(f"oversized image ({width}x{height} pixels, cap {max_pixels})")
            if draft and image.format == "JPEG":
                image.draft("RGB", (draft, draft))
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        pixels = re.search(r"\((\d+) pixels\)", str(exc))
        raise OversizedImage(f"oversized image ({pixels.group(1) if pixels else 'too many'} pixels, cap {max_pixels})") from exc
    except GapscopeError:
        raise
    except Exception as exc:  # noqa: BLE001 - PIL raises many types for corrupt data
        detail = str(exc).splitlines()[0] if str(exc) else "unreadable"
        raise GapscopeError(f"corrupt image ({type(exc).__name__}: {detail})") from exc
    return image


def thumbnail_bytes(image: Image.Image, size: int = 96, quality: int = 80,
                    resample: Image.Resampling = Image.Resampling.BICUBIC) -> bytes:
    """A JPEG of the image fitted into size x size (never enlarged)."""
    copy = image.copy()
    copy.thumbnail((size, size), resample=resample, reducing_gap=2.0)
    buffer = io.BytesIO()
    copy.convert("RGB").save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()
