"""Turning one Record into model inputs (decode, preprocess, thumbnail), a list of them into a batch, and a batch
into embeddings.

Runs in decoding workers (local engine) or Ray map tasks; a BadItem (or any other error) anywhere makes the whole
item bad, with the modality and reason recorded. Modalities a source marks optional and a record lacks are left out, not bad.
An encoder with `takes_item_ids` (precomputed vectors) gets the record's item id instead of the decoded input.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ingest.base import BadItem, DatasetSource, Encoder, Record

THUMBNAIL_SIZE = 96
THUMBNAIL_MODALITIES = ("image", "microscopy")
REFS = {"image": "image_ref", "microscopy": "image_ref", "audio": "audio_ref", "molecule": "molecule", "text": "text"}


@dataclass
class Prepared:
    """One record after decoding: model inputs by modality, or the reason it is bad."""

    position: int
    record: Record
    inputs: dict[str, Any] = field(default_factory=dict)
    thumbnail: bytes | None = None
    bad: str | None = None


def present(source: DatasetSource, record: Record, modality: str) -> bool:
    """Whether the record has this modality (only optional modalities may be absent)."""
    return modality not in getattr(source, "optional", set()) or bool(getattr(record, REFS.get(modality, "text"), None))


def thumbnail(decoded: Any, modality: str, size: int = THUMBNAIL_SIZE) -> bytes:
    """A small JPEG of a decoded image, or of channels 0, 3, 4 of a microscopy array (as Amumo shows them)."""
    from PIL import Image

    from dashboard.thumbnails import thumbnail_bytes

    if modality == "microscopy":
        array = decoded[..., [0, 3, 4]] if decoded.shape[-1] >= 5 else decoded[..., :3]
        low, high = array.min(axis=(0, 1)), array.max(axis=(0, 1))
        scaled = (array - low) / np.where(high > low, high - low, 1.0) * 255.0
        decoded = Image.fromarray(scaled.astype(np.uint8))
    return thumbnail_bytes(decoded, size, resample=Image.Resampling.BILINEAR)


def prepare(source: DatasetSource, encoder: Encoder, position: int, record: Record, modalities: list[str]) -> Prepared:
    """Decode and preprocess the record's modalities; a thumbnail from its image when the dataset has one."""
    out = Prepared(position, record)
    wanted = [m for m in modalities if present(source, record, m)]
    shown = next((m for m in THUMBNAIL_MODALITIES if m in source.modalities and present(source, record, m)), None)
    modality = "?"
    try:
        for modality in dict.fromkeys(wanted + ([shown] if shown else [])):
            decoded = source.decode(record, modality)
            if modality == shown:
                out.thumbnail = thumbnail(decoded, modality)
            if modality in wanted:
                out.inputs[modality] = encoder.preprocess(modality, model_input(encoder, record, decoded))
    except Exception as exc:  # noqa: BLE001 - one item must not stop a long run; the reason goes to the report
        out.inputs, out.thumbnail, out.bad = {}, None, reason(modality, exc)
    return out


def model_input(encoder: Encoder, record: Record, decoded: Any) -> Any:
    """What the encoder preprocesses: the item id for encoders that look vectors up by id, else the decoded input."""
    return record.item_id if getattr(encoder, "takes_item_ids", False) else decoded


def reason(modality: str, exc: Exception) -> str:
    """The report line of a failed item: a BadItem's reason, or the unexpected error's type and first line."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{modality}: {text}" if isinstance(exc, BadItem) else f"{modality}: unexpected {type(exc).__name__}: {text}"


@dataclass
class Batch:
    """Prepared items of one batch: the good ones, their inputs grouped by modality, and the bad ones."""

    good: list[Prepared]
    inputs: dict[str, Any]
    rows: dict[str, list[int]]
    bad: list[Prepared]
    seconds: float = 0.0


def prepare_batch(source: DatasetSource, encoder: Encoder, chunk: list[tuple[int, Record]],
                  modalities: list[str]) -> Batch:
    """A chunk of (position, record) prepared and collated, with the seconds that took."""
    started = time.perf_counter()
    batch = collate([prepare(source, encoder, k, r, modalities) for k, r in chunk])
    batch.seconds = time.perf_counter() - started
    return batch


def encode_batch(encoder: Encoder, batch: Batch) -> dict[str, tuple[list[str], np.ndarray]]:
    """Embeddings of a collated batch, by modality, with their item ids (a stacked tensor goes in as it is)."""
    out = {}
    for modality, rows in batch.rows.items():
        vectors = np.asarray(encoder.encode(modality, batch.inputs[modality]), dtype=np.float32)
        out[modality] = ([batch.good[k].record.item_id for k in rows], vectors)
    return out


def collate(items: list[Prepared]) -> Batch:
    """Group inputs by modality; same-shape tensors are stacked into one (one transfer between processes)."""
    good = [p for p in items if p.bad is None]
    rows: dict[str, list[int]] = {}
    for k, item in enumerate(good):
        for modality in item.inputs:
            rows.setdefault(modality, []).append(k)
    inputs = {m: _stack([good[k].inputs[m] for k in ks]) for m, ks in rows.items()}
    for item in good:
        item.inputs = {}  # the batch holds them now (stacked tensors would otherwise travel twice)
    return Batch(good, inputs, rows, [p for p in items if p.bad is not None])


def _stack(values: list[Any]) -> Any:
    """A stacked tensor when every value is a tensor of one shape and dtype, else the list."""
    import torch

    if values and all(isinstance(v, torch.Tensor) for v in values):
        if len({(tuple(v.shape), v.dtype) for v in values}) == 1:
            return torch.stack(values)
    return values
