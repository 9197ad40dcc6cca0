"""Item views: one item in full (image, text, audio player, molecule drawing) and a selection summary."""
from __future__ import annotations

import base64
import re
from collections import Counter
from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard.figures.molecule import molecule_png
from dashboard.ui import loaders
from dashboard.ui.guard import shown_errors
from dashboard.ui.sidebar import View

STOPWORDS = {"a", "an", "the", "of", "on", "in", "with", "and", "to", "is", "at", "for", "by", "number", "some"}


def data_uri(image: bytes | None) -> str | None:
    """A base64 data URI of PNG/JPEG bytes (None stays None)."""
    if not image:
        return None
    kind = "png" if image[:4] == b"\x89PNG" else "jpeg"
    return f"data:image/{kind};base64,{base64.b64encode(image).decode()}"


def _record(view: View, item_id: str) -> pd.Series | None:
    """One item's metadata row."""
    frame = loaders.items(view.store, view.version, view.dataset)
    hit = frame[frame["item_id"] == item_id]
    return None if hit.empty else hit.iloc[0]


def show_item(view: View, item_id: str, where=st) -> None:
    """Everything known about one item: image, caption, audio, molecule."""
    record = _record(view, item_id)
    if record is None:
        where.warning(f"item {item_id!r}: not in dataset {view.dataset!r}")
        return
    where.subheader(f"Item {item_id}")
    thumb = loaders.thumbnails(view.store, view.version, view.dataset, (item_id,)).get(item_id)
    image_ref = record.get("image_ref")
    if isinstance(image_ref, str) and Path(image_ref).is_file():
        where.image(image_ref, width=260)
    elif thumb:
        where.image(thumb, width=160)
    if isinstance(record.get("text"), str):
        where.markdown(f"> {record['text']}")
    audio = record.get("audio_ref")
    if isinstance(audio, str) and audio:
        with shown_errors(where):
            where.audio(audio if audio.startswith(("http://", "https://")) else Path(audio).read_bytes())
    molecule = record.get("molecule")
    if isinstance(molecule, str) and molecule:
        with shown_errors(where):
            where.image(molecule_png(molecule), caption=molecule, width=260)


def top_ngrams(texts: list[str], n: int = 2, top: int = 8) -> list[tuple[str, int]]:
    """The most frequent word n-grams (1..n) of the captions, stop words left out of unigrams."""
    counts: Counter[str] = Counter()
    for text in texts:
        words = re.findall(r"[a-z0-9']+", (text or "").lower())
        counts.update(w for w in words if w not in STOPWORDS and not w.isdigit())
        for size in range(2, n + 1):
            counts.update(" ".join(words[k:k + size]) for k in range(len(words) - size + 1)
                          if not any(w.isdigit() for w in words[k:k + size]))
    return counts.most_common(top)


def selection_summary(view: View, ids: list[str], where=st, thumbs: int = 12) -> None:
    """Count, top caption n-grams and example thumbnails of a selection."""
    frame = loaders.items(view.store, view.version, view.dataset)
    chosen = frame[frame["item_id"].isin(set(ids))]
    where.metric("Selected items", f"{len(chosen):,}")
    grams = top_ngrams(chosen["text"].dropna().tolist())
    if grams:
        where.markdown("**Top caption n-grams:** " + ", ".join(f"{g} ({c})" for g, c in grams))
    examples = chosen["item_id"].head(thumbs).tolist()
    images = loaders.thumbnails(view.store, view.version, view.dataset, tuple(examples))
    shown = [i for i in examples if i in images]
    if shown:
        where.image([images[i] for i in shown], caption=[str(i) for i in shown], width=64)
    where.dataframe(chosen[["item_id", "text"]].head(200), hide_index=True, height=200)
