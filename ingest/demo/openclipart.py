"""Debian's openclipart (public domain): find drawings, build captions from their SVG metadata, load PNGs safely.

Layout: /usr/share/openclipart/{svg,png}/<category>/.../<stem>.{svg,png}; the same drawing (same stem) stands in
several category folders, as a copy or a symlink, so drawings are deduplicated by stem (first path in sorted order
wins). The caption joins the drawing's name (its file stem without numbering: a third of the collection shares
boilerplate titles such as "Part of the Flat Icon Collection") and the Dublin Core title, description and keywords
(`dc:subject`) of the SVG's `cc:Work`, after dropping the export noise ("HASH(0x...)", the keyword "hash"). Some PNGs are hundreds of
megapixels: they are refused before decoding (decompression-bomb guard) and, like broken files, reported and skipped.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from dashboard.errors import GapscopeError
from dashboard.thumbnails import OversizedImage, open_image
from ingest.base import BadItem

ROOT = Path("/usr/share/openclipart")
MAX_PIXELS = 40_000_000
MAX_CAPTION = 300
NS = {"dc": "http://purl.org/dc/elements/1.1/", "cc": "http://web.resource.org/cc/",
      "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#"}
NOISE = re.compile(r"HASH\(0x[0-9a-f]+\)", re.I)
SKIP_WORDS = {"", "hash"}


@dataclass(frozen=True)
class Drawing:
    """One deduplicated drawing: its id (file stem), PNG, SVG, category folder and caption."""

    item_id: str
    png: Path
    svg: Path
    category: str
    caption: str


def _metadata(svg: Path) -> ET.Element | None:
    """The SVG's <metadata> element, parsed without reading past it."""
    try:
        for event, element in ET.iterparse(str(svg), events=("end",)):
            if element.tag.endswith("}metadata") or element.tag == "metadata":
                return element
    except ET.ParseError as exc:
        raise BadItem(f"{svg}: unreadable SVG ({exc})") from exc
    return None


def _clean(text: str | None) -> str:
    """Whitespace-collapsed text without the collection's export noise."""
    return " ".join(NOISE.sub("", text or "").split())


def name_of(stem: str) -> str:
    """A drawing's name from its file stem: words split on underscores, bare numbers dropped."""
    return " ".join(w for w in re.split(r"[_\s]+", stem.lower()) if w and not w.isdigit())


def caption_of(svg: Path) -> str:
    """Caption from the drawing's name and the SVG's title, description and keywords; BadItem when all are empty."""
    meta = _metadata(svg)
    work = meta.find(".//cc:Work", NS) if meta is not None else None
    if work is None:
        raise BadItem(f"{svg}: no cc:Work metadata")
    title = _clean(work.findtext("dc:title", "", NS))
    description = _clean(work.findtext("dc:description", "", NS))
    keywords = []
    for li in work.findall("dc:subject/rdf:Bag/rdf:li", NS):
        word = _clean(li.text).lower()
        if word not in SKIP_WORDS and word not in keywords:
            keywords.append(word)
    name = name_of(svg.stem)
    parts = [name, title if title.lower() != name else "", description if description.lower() != title.lower() else ""]
    parts.append(", ".join(keywords))
    caption = ". ".join(p for p in parts if p)
    if not caption:
        raise BadItem(f"{svg}: empty name, title, description and keywords")
    return caption[:MAX_CAPTION]


def find_drawings(root: Path = ROOT) -> tuple[list[Drawing], list[str]]:
    """Deduplicated drawings that have both a PNG and a captioned SVG, in stem order, plus a report of the skipped."""
    root = Path(root)
    if not (root / "png").is_dir() or not (root / "svg").is_dir():
        raise BadItem(f"{root}: no png/ and svg/ folders (install the Debian packages openclipart-png and openclipart-svg)")
    first: dict[str, Path] = {}
    for png in sorted((root / "png").rglob("*.png")):
        if png.is_file() and not png.is_symlink():
            first.setdefault(png.stem, png)
    drawings, skipped = [], []
    for stem in sorted(first):
        png = first[stem]
        relative = png.relative_to(root / "png")
        svg = (root / "svg" / relative).with_suffix(".svg")
        try:
            if not svg.is_file():
                raise BadItem(f"{png}: no matching SVG {svg}")
            drawings.append(Drawing(stem, png, svg, relative.parts[0], caption_of(svg)))
        except BadItem as exc:
            skipped.append(str(exc))
    return drawings, skipped


def load_png(path: Path, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """An RGB image composited on white; refuses decompression bombs and broken files with BadItem."""
    try:
        return open_image(path, max_pixels)
    except OversizedImage as exc:
        raise BadItem(f"{path}: {exc}, over the pixel limit") from exc
    except GapscopeError as exc:
        raise BadItem(f"{path}: unreadable PNG ({exc})") from exc


