"""Bulk appends of one (dataset, model)'s embeddings: checked once, then one LanceDB commit per call.

`Store.add_embeddings` re-reads the dataset, the model and the table's dimension and merges on the key (a scan of
every stored key) on each call: right for imports, a fixed cost per batch for an ingest. The appender (from
`Store.embedding_appender`) does those checks once, reads the stored keys once, and appends only keys it has not
seen, all modalities in one commit: idempotent while it is the only writer of its table (one ingest per pair). Item
ids may come as Arrow strings (an ingest's): repeats are found and keys built by Arrow, not by a loop per item.
"""
from __future__ import annotations

from typing import Sequence, Union

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dashboard.errors import GapscopeError
from dashboard.store.validate import check_vectors
from dashboard.store.vectors import VectorTables

Ids = Union[Sequence[str], pa.Array]


class EmbeddingAppender:
    """Appends new (modality, item) embeddings of one vector table; keys already stored are left out."""

    def __init__(self, tables: VectorTables, name: str, dim: int, modalities: list[str], what: str) -> None:
        self.tables, self.name, self.dim, self.modalities, self.what = tables, name, dim, modalities, what
        self.value_type: pa.DataType = tables.ensure(name, dim)
        self.stored: dict[str, set[str]] = {m: set() for m in modalities} | tables.ids(name)

    def append(self, batches: list[dict[str, tuple[Ids, np.ndarray]]]) -> int:
        """Check and append the (ids, vectors) of every batch and modality not yet stored, in one commit, each batch's
        matrix as one chunk (never concatenated); ids as a list or an Arrow string array. Returns the rows written."""
        chunks: dict[str, list[tuple[pa.Array, np.ndarray]]] = {}
        for rows in batches:
            for modality, (ids, vectors) in rows.items():
                chunks.setdefault(modality, []).append(self._checked(modality, as_strings(ids), vectors))
        for modality, pieces in chunks.items():
            _once(modality, pieces, self.what)
        parts = [self._fresh(modality, ids, vectors) for modality, pieces in chunks.items() for ids, vectors in pieces]
        written = self.tables.append(self.name, parts, self.value_type)
        for modality, ids, _ in parts:
            self.stored[modality].update(ids.to_pylist())
        return written

    def _checked(self, modality: str, ids: pa.Array, vectors: np.ndarray) -> tuple[pa.Array, np.ndarray]:
        """The (ids, vectors) of a modality the dataset has, with vectors of the right shape, finite and non-zero."""
        if modality not in self.modalities:
            raise GapscopeError(f"{self.what}: the dataset has no modality {modality!r} "
                                f"(has {', '.join(self.modalities)})")
        check_vectors(f"{self.what}, {modality}", ids, vectors, self.dim)
        return ids, vectors

    def _fresh(self, modality: str, ids: pa.Array, vectors: np.ndarray) -> tuple[str, pa.Array, np.ndarray]:
        """(modality, ids, vectors) without the keys stored already (looked up only when some are stored)."""
        stored = self.stored[modality]
        listed = ids.to_pylist() if stored else []
        if not stored or stored.isdisjoint(listed):
            return modality, ids, vectors
        keep = [k for k, item in enumerate(listed) if item not in stored]
        return modality, ids.take(pa.array(keep, pa.int64())), np.asarray(vectors)[keep]


def as_strings(ids: Ids) -> pa.Array:
    """Item ids as an Arrow string array (a list's values as str)."""
    if isinstance(ids, pa.Array):
        return ids.cast(pa.string())
    return pa.array([str(item) for item in ids], pa.string())


def _once(modality: str, pieces: list[tuple[pa.Array, np.ndarray]], what: str) -> None:
    """A one-line error when an id occurs twice among one modality's pieces of one append."""
    ids = pa.chunked_array([p[0] for p in pieces], pa.string())
    if pc.count_distinct(ids).as_py() != len(ids):
        raise GapscopeError(f"{what}, {modality}: an item id occurs twice in one append")
