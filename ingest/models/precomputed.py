"""Precomputed vectors: embeddings made elsewhere, looked up by item id (no model runs).

The name is the path of the vectors, in one of three layouts holding the same things, an `item_id` array and one
(n, dim) array per modality (named by the modality: image, text, audio, ...), plus an optional `logit_scale`:
- a folder of .npy files: item_id.npy, <modality>.npy, logit_scale.npy;
- an .npz archive with those arrays;
- a Parquet file with an `item_id` column and one list-of-floats column per modality (logit_scale in the schema
  metadata).
The decoded input of every modality is the item id; preprocess finds its row (an unknown id is a BadItem) and
encode gathers the rows. The logit scale is 1.0 when the file does not give one (said in the source).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from dashboard.errors import GapscopeError
from ingest.base import BadItem

SUFFIXES = (".npz", ".parquet", "a folder of .npy files")


def known_names() -> list[str]:
    """Precomputed vectors are named by path: the accepted layouts."""
    return [f"PATH ({', '.join(SUFFIXES)})"]


def read_arrays(what: str, path: Path) -> tuple[dict[str, np.ndarray], float | None]:
    """The arrays of a vectors file or folder by name, and its logit scale if given."""
    if path.is_dir():
        arrays = {file.stem: np.load(file, allow_pickle=False) for file in sorted(path.glob("*.npy"))}
    elif path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    elif path.suffix == ".parquet":
        return _read_parquet(path)
    else:
        raise GapscopeError(f"model {what}: unsupported vectors file {path.name} (use {', '.join(SUFFIXES)})")
    scale = arrays.pop("logit_scale", None)
    return arrays, None if scale is None else float(np.asarray(scale).reshape(-1)[0])


def _read_parquet(path: Path) -> tuple[dict[str, np.ndarray], float | None]:
    """The columns of a Parquet vectors file as arrays, and the logit scale in its metadata."""
    import pyarrow.parquet as pq
    table = pq.read_table(path)
    arrays = {name: (np.asarray(table.column(name).to_pylist(), dtype=object) if name == "item_id"
                     else np.asarray(table.column(name).to_pylist(), dtype=np.float32))
              for name in table.column_names}
    scale = (table.schema.metadata or {}).get(b"logit_scale")
    return arrays, None if scale is None else float(scale)


def load(name: str, pretrained: str | None, device: str, precision: str) -> "PrecomputedEncoder":
    """The vectors at path `name` as an Encoder over their modalities."""
    what = f"precomputed:{name}"
    if pretrained not in (None, "none"):
        raise GapscopeError(f"model {what}: precomputed vectors take no pretrained weights (got {pretrained!r})")
    path = Path(name).expanduser()
    if not path.exists():
        raise GapscopeError(f"model {what}: vectors file {name} does not exist (use {', '.join(SUFFIXES)})")
    arrays, scale = read_arrays(what, path)
    if "item_id" not in arrays:
        raise GapscopeError(f"model {what}: no item_id array (has {', '.join(arrays) or 'nothing'})")
    ids = [str(item) for item in arrays.pop("item_id")]
    return PrecomputedEncoder(what, name, ids, arrays, scale)


class PrecomputedEncoder:
    """An Encoder that looks embeddings up by item id."""

    family = "precomputed"
    takes_item_ids = True

    def __init__(self, what: str, name: str, ids: list[str], arrays: dict[str, np.ndarray],
                 scale: float | None) -> None:
        if not arrays:
            raise GapscopeError(f"model {what}: no vectors besides item_id")
        shapes = {modality: np.shape(vectors) for modality, vectors in arrays.items()}
        if len({shape[1:] for shape in shapes.values()}) != 1 or any(len(s) != 2 or s[0] != len(ids)
                                                                     for s in shapes.values()):
            raise GapscopeError(f"model {what}: each modality needs a ({len(ids)}, dim) array "
                                f"(got {', '.join(f'{m} {s}' for m, s in shapes.items())})")
        if len(set(ids)) != len(ids):
            raise GapscopeError(f"model {what}: item ids are not unique")
        self.name, self.modalities = name, list(arrays)
        self.dim = int(next(iter(shapes.values()))[1])
        self.logit_scale = 1.0 if scale is None else scale
        self.source = f"{what} logit_scale={'given' if scale is not None else 'not given (1.0)'}"
        self.rows = {item: row for row, item in enumerate(ids)}
        self.vectors = {modality: np.asarray(vectors, dtype=np.float32) for modality, vectors in arrays.items()}

    def preprocess(self, modality: str, decoded: Any) -> int:
        """The row of an item id; an item without a vector is a BadItem."""
        self._check(modality)
        row = self.rows.get(str(decoded))
        if row is None:
            raise BadItem(f"no precomputed vector for item {decoded!r}")
        return row

    def encode(self, modality: str, batch: list[int]) -> np.ndarray:
        """The vectors of a batch of rows: a view when they are consecutive (a file in the dataset's order: no copy
        of each batch), else gathered."""
        self._check(modality)
        rows = np.asarray(batch, dtype=np.int64).reshape(-1)
        if len(rows) and rows[-1] - rows[0] == len(rows) - 1 and bool((np.diff(rows) == 1).all()):
            return self.vectors[modality][rows[0]:rows[-1] + 1]
        return self.vectors[modality][rows].reshape(len(rows), self.dim)

    def _check(self, modality: str) -> None:
        """A one-line error for a modality the vectors do not have."""
        if modality not in self.vectors:
            raise GapscopeError(f"model precomputed:{self.name}: no modality {modality!r} "
                                f"(has {', '.join(self.modalities)})")
