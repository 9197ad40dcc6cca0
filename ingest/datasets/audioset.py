"""AudioSet: a labels CSV plus audio clips (wav/flac/ogg via soundfile) and video thumbnails where present.

The CSV is AudioSet's segments format (YTID, start_seconds, end_seconds, positive_labels as mids, mapped to names
through class_labels_indices.csv when it is there) or a table with columns video_id/id and labels (names, as a list
or comma separated), like Amumo's infos.csv. A clip is the file whose stem is the id (or starts with "<id>_"); a
thumbnail likewise, an image file. The text is the column text/caption if present, else the labels joined by ", ".
Options: labels (the CSV; default the only *.csv besides class_labels_indices.csv), max_pixels.
"""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pandas as pd

from dashboard.errors import GapscopeError
from ingest.base import Record
from ingest.datasets import decoding
from ingest.datasets.common import ListSource, folder, no_options, text_or_none

AUDIO = {".wav", ".flac", ".ogg", ".mp3"}
IMAGES = {".jpg", ".jpeg", ".png", ".webp"}
SEGMENT_COLUMNS = ["YTID", "start_seconds", "end_seconds", "positive_labels"]


def _read_csv(path: Path) -> pd.DataFrame:
    """The labels table, in either the segments format (commented header) or a plain CSV."""
    try:
        if path.read_text(encoding="utf-8").lstrip().startswith("#"):
            return pd.read_csv(path, comment="#", header=None, names=SEGMENT_COLUMNS, skipinitialspace=True, dtype=str)
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError) as exc:
        raise GapscopeError(f"{path}: unreadable labels CSV ({str(exc).splitlines()[0]})") from exc


def _names(root: Path) -> dict[str, str]:
    """AudioSet mid -> display name, from class_labels_indices.csv when present."""
    found = sorted(root.rglob("class_labels_indices.csv"))
    if not found:
        return {}
    table = pd.read_csv(found[0], dtype=str)
    return dict(zip(table["mid"], table["display_name"]))


def _labels(value: Any, names: dict[str, str]) -> list[str]:
    """Label names from a list literal, or a comma-separated string of names or mids."""
    text = text_or_none(value) or ""
    if text.startswith("["):
        try:
            items = [str(v) for v in ast.literal_eval(text)]
        except (ValueError, SyntaxError):
            items = text.strip("[]").split(",")
    else:
        items = text.split(",")
    return [names.get(i.strip(), i.strip()) for i in items if i.strip()]


def _files(root: Path, suffixes: set[str]) -> dict[str, str]:
    """Id -> file for the files of the given kinds: by stem, and by each "_"-prefix of the stem (segment times)."""
    index: dict[str, str] = {}
    for path in sorted(p for p in root.rglob("*") if p.suffix.lower() in suffixes and p.is_file()):
        index[path.stem] = str(path)
    for stem, path in list(index.items()):
        for cut in (k for k, char in enumerate(stem) if char == "_"):
            index.setdefault(stem[:cut], path)
    return index


def _column(frame: pd.DataFrame, choices: list[str], path: Path) -> str:
    """The first of the candidate columns the table has."""
    for name in choices:
        if name in frame.columns:
            return name
    raise GapscopeError(f"{path}: needs one of the columns {', '.join(choices)}")


def open(source: str, labels: str | None = None, max_pixels: int = decoding.MAX_PIXELS, **options: Any) -> ListSource:  # noqa: A001
    """Open an AudioSet-style folder."""
    no_options("audioset", options)
    root = folder(source)
    found = [root / labels] if labels else [p for p in sorted(root.glob("*.csv")) if p.name != "class_labels_indices.csv"]
    if len(found) != 1 or not found[0].is_file():
        raise GapscopeError(f"{root}: expected one labels CSV, found {len(found)}; pass the option labels")
    frame, names = _read_csv(found[0]), _names(root)
    id_column = _column(frame, ["YTID", "video_id", "id"], found[0])
    label_column = _column(frame, ["positive_labels", "labels", "display_names"], found[0])
    text_column = next((c for c in ("text", "caption") if c in frame.columns), None)
    audio, images = _files(root, AUDIO), _files(root, IMAGES)
    records = []
    for row in frame.to_dict("records"):
        key, label_list = str(row[id_column]).strip(), _labels(row[label_column], names)
        text = text_or_none(row[text_column]) if text_column else ", ".join(label_list)
        extra = {k: v for k, v in row.items() if k not in (id_column, label_column, text_column) and not str(k).startswith("Unnamed")}
        records.append(Record(item_id=key, text=text, audio_ref=audio.get(key), image_ref=images.get(key),
                              extra={"labels": label_list, **extra}))
    modalities = (["image"] if any(r.image_ref for r in records) else []) + ["text", "audio"]
    return ListSource(f"audioset-{root.name}", modalities, records, max_pixels, optional={"image"})
