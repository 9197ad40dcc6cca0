"""Turning one Record into model inputs (decode, preprocess, thumbnail), a list of them into a batch, and a batch
into embeddings.

Runs in decoding workers (local engine) or Ray map tasks; a BadItem (or any other error) anywhere makes the whole
item bad, with the modality and reason recorded. Modalities a source marks optional and a record lacks are left out, not bad.
An encoder with `takes_item_ids` (precomputed vectors) gets the record's item id instead of the decoded input.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pyarrow as pa

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


class Preparer:
    """Decodes, preprocesses and thumbnails records of one source for one encoder; what every record shares (the
    modalities, the thumbnail's, whether the encoder takes item ids) is worked out once, not per record."""

    def __init__(self, source: DatasetSource, encoder: Encoder, modalities: list[str]) -> None:
        self.source, self.encoder, self.modalities = source, encoder, list(modalities)
        self.optional = bool(getattr(source, "optional", None))
        self.ids = bool(getattr(encoder, "takes_item_ids", False))
        self.thumbnailed = [m for m in THUMBNAIL_MODALITIES if m in source.modalities]
        self.shown = self.thumbnailed[0] if self.thumbnailed else None
        self.order = list(dict.fromkeys(self.modalities + ([self.shown] if self.shown else [])))

    def __call__(self, position: int, record: Record) -> Prepared:
        """Decode and preprocess the record's modalities; a thumbnail from its image when the dataset has one."""
        wanted, shown, order = self._plan(record)
        out = Prepared(position, record)
        modality = "?"
        try:
            for modality in order:
                decoded = self.source.decode(record, modality)
                if modality == shown:
                    out.thumbnail = thumbnail(decoded, modality)
                if modality in wanted:
                    out.inputs[modality] = self.encoder.preprocess(modality, record.item_id if self.ids else decoded)
        except Exception as exc:  # noqa: BLE001 - one item must not stop a long run; the reason goes to the report
            out.inputs, out.thumbnail, out.bad = {}, None, reason(modality, exc)
        return out

    def _plan(self, record: Record) -> tuple[list[str], str | None, list[str]]:
        """The record's modalities to embed, the one its thumbnail comes from, and the order to decode them in."""
        if not self.optional:
            return self.modalities, self.shown, self.order
        wanted = [m for m in self.modalities if present(self.source, record, m)]
        shown = next((m for m in self.thumbnailed if present(self.source, record, m)), None)
        return wanted, shown, list(dict.fromkeys(wanted + ([shown] if shown else [])))


def model_input(encoder: Encoder, record: Record, decoded: Any) -> Any:
    """What the encoder preprocesses: the item id for encoders that look vectors up by id, else the decoded input."""
    return record.item_id if getattr(encoder, "takes_item_ids", False) else decoded


def reason(modality: str, exc: Exception) -> str:
    """The report line of a failed item: a BadItem's reason, or the unexpected error's type and first line."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{modality}: {text}" if isinstance(exc, BadItem) else f"{modality}: unexpected {type(exc).__name__}: {text}"


@dataclass
class Batch:
    """One collated batch, column by column: the good items' positions and thumbnails, their inputs grouped by
    modality (`rows`: which of the good items each modality's inputs belong to), and the bad items' (position,
    reason). Only these few columns travel between processes, never one object per item."""

    positions: np.ndarray
    thumbnails: list[bytes | None]
    inputs: dict[str, Any]
    rows: dict[str, np.ndarray]
    bad: list[tuple[int, str]]
    seconds: float = 0.0

    def __len__(self) -> int:
        return len(self.positions) + len(self.bad)


def prepare_batch(source: DatasetSource, encoder: Encoder, chunk: list[tuple[int, Record]],
                  modalities: list[str]) -> Batch:
    """A chunk of (position, record) prepared and collated, with the seconds that took."""
    started = time.perf_counter()
    make = Preparer(source, encoder, modalities)
    batch = collate([make(k, r) for k, r in chunk])
    batch.seconds = time.perf_counter() - started
    return batch


def encode_batch(encoder: Encoder, batch: Batch,
                 item_ids: pa.Array | Mapping[int, str]) -> dict[str, tuple[pa.Array, np.ndarray]]:
    """Embeddings of a collated batch, by modality, with their item ids as Arrow strings (`item_ids`: the run's by
    position, as an Arrow array taken from, or a mapping; a stacked tensor goes in as it is)."""
    out = {}
    for modality, rows in batch.rows.items():
        vectors = np.asarray(encoder.encode(modality, batch.inputs[modality]), dtype=np.float32)
        out[modality] = (ids_at(item_ids, batch.positions[rows]), vectors)
    return out


def ids_at(item_ids: pa.Array | Mapping[int, str], positions: np.ndarray) -> pa.Array:
    """The item ids at some positions of a run, as an Arrow string array."""
    if isinstance(item_ids, pa.Array):
        return item_ids.take(pa.array(np.asarray(positions, dtype=np.int64)))
    return pa.array([item_ids[int(k)] for k in positions], pa.string())


def collate(items: list[Prepared]) -> Batch:
    """Group inputs by modality; same-shape tensors are stacked into one (one transfer between processes)."""
    good = [p for p in items if p.bad is None]
    rows: dict[str, list[int]] = {}
    for k, item in enumerate(good):
        for modality in item.inputs:
            rows.setdefault(modality, []).append(k)
    inputs = {m: _stack([good[k].inputs[m] for k in ks]) for m, ks in rows.items()}
    return Batch(np.array([p.position for p in good], dtype=np.int64), [p.thumbnail for p in good], inputs,
                 {m: np.array(ks, dtype=np.int64) for m, ks in rows.items()},
                 [(p.position, p.bad) for p in items if p.bad is not None])


def _stack(values: list[Any]) -> Any:
    """A stacked tensor when every value is a tensor of one shape and dtype, else the list."""
    import torch

    if values and all(isinstance(v, torch.Tensor) for v in values):
        if len({(tuple(v.shape), v.dtype) for v in values}) == 1:
            return torch.stack(values)
    return values
