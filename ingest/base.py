"""The two contracts of ingest: a dataset yields Records and decodes them; an Encoder embeds decoded inputs.

Decoded inputs by modality: image -> PIL.Image (RGB); text -> str; audio -> (np.ndarray float32 mono, sample_rate);
molecule -> str (SMILES); microscopy -> np.ndarray (H, W, C) float32; depth and thermal -> np.ndarray (H, W) float32;
imu -> np.ndarray (6, T) float32. A decode that fails raises BadItem.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator, Protocol

import numpy as np


class BadItem(Exception):
    """One item cannot be used (corrupt or missing file, empty caption, invalid SMILES, ...); it is skipped and reported."""


@dataclass
class Record:
    """One item of a source dataset before decoding: ids, references and caption."""

    item_id: str
    text: str | None = None
    image_ref: str | None = None
    audio_ref: str | None = None
    molecule: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class DatasetSource(Protocol):
    """A registered dataset type opened on a source path."""

    name: str
    modalities: list[str]

    def records(self) -> Iterator[Record]:
        """All records, in a stable order."""

    def decode(self, record: Record, modality: str) -> Any:
        """The decoded input of one modality of a record; raises BadItem."""


class Encoder(Protocol):
    """A loaded model that embeds decoded inputs of its modalities."""

    name: str
    family: str
    modalities: list[str]
    dim: int
    logit_scale: float
    source: str

    def preprocess(self, modality: str, decoded: Any) -> Any:
        """CPU-side preparation of one decoded input (runs in decoding workers); raises BadItem."""

    def encode(self, modality: str, batch: Any) -> np.ndarray:
        """Embeddings (float32, shape (len(batch), dim)) of a batch of preprocessed inputs: a list, or one tensor
        stacking them when they are tensors of one shape (as the engine's collate passes them)."""
