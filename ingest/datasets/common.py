"""What every dataset module shares: a source over a list of Records whose references decode uniformly."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

from dashboard.errors import GapscopeError
from ingest.base import BadItem, Record
from ingest.datasets import decoding


class ListSource:
    """A DatasetSource whose records are built once; decode dispatches on the modality.

    Depth, thermal and IMU references are kept in the record's `extra`, under the modality's name.
    `optional` names modalities an item may lack (no reference): it is then embedded in the others only.
    `draft` (set by the engine's fast-decode option) decodes JPEGs at a reduced DCT scale of at least that size.
    """

    def __init__(self, name: str, modalities: list[str], records: list[Record], max_pixels: int = decoding.MAX_PIXELS,
                 optional: set[str] | None = None) -> None:
        self.name = name
        self.modalities = modalities
        self.optional = optional or set()
        self.draft: int | None = None
        self.max_pixels = int(max_pixels)
        self._records = records

    def records(self) -> Iterator[Record]:
        """All records, in a stable order."""
        return iter(self._records)

    def decode(self, record: Record, modality: str) -> Any:
        """The decoded input of one modality; raises BadItem."""
        if modality == "text":
            return decoding.decode_text(record.text)
        if modality == "image":
            return decoding.decode_image(_ref(record.image_ref, record), self.max_pixels, self.draft)
        if modality == "audio":
            return decoding.decode_audio(_ref(record.audio_ref, record))
        if modality == "molecule":
            return decoding.check_smiles(record.molecule)
        if modality == "microscopy":
            return decoding.decode_microscopy(_ref(record.image_ref, record))
        if modality in ("depth", "thermal"):
            return decoding.decode_map(_ref(record.extra.get(modality), record), self.max_pixels)
        if modality == "imu":
            return decoding.decode_imu(_ref(record.extra.get(modality), record))
        raise GapscopeError(f"dataset {self.name!r}: no modality {modality!r} (has {', '.join(self.modalities)})")


def _ref(ref: str | None, record: Record) -> str:
    """A reference that must be present."""
    if not ref:
        raise BadItem("missing file (none found for this item)")
    return ref


def folder(source: str | Path) -> Path:
    """An existing folder, or a one-line error."""
    path = Path(source).expanduser()
    if not path.is_dir():
        raise GapscopeError(f"{path}: not a folder")
    return path.resolve()


def no_options(kind: str, options: dict[str, Any]) -> None:
    """Reject options a dataset type does not know."""
    if options:
        raise GapscopeError(f"dataset type {kind!r}: unknown option(s) {', '.join(sorted(options))}")


def text_or_none(value: Any) -> str | None:
    """A cell as text, None for missing values (NaN, None)."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    return str(value)
