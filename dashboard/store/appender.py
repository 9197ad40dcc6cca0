"""Bulk appends of one (dataset, model)'s embeddings: checked once, then one LanceDB commit per call.

`Store.add_embeddings` re-reads the dataset, the model and the table's dimension and merges on the key (a scan of
every stored key) on each call: right for imports, a fixed cost per batch for an ingest. The appender (from
`Store.embedding_appender`) does those checks once, reads the stored keys once, and appends only keys it has not
seen, all modalities in one commit: idempotent while it is the only writer of its table (one ingest per pair).
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from dashboard.errors import GapscopeError
from dashboard.store.validate import check_vectors
from dashboard.store.vectors import VectorTables


class EmbeddingAppender:
    """Appends new (modality, item) embeddings of one vector table; keys already stored are left out."""

    def __init__(self, tables: VectorTables, name: str, dim: int, modalities: list[str], what: str) -> None:
        self.tables, self.name, self.dim, self.modalities, self.what = tables, name, dim, modalities, what
        self.value_type: pa.DataType = tables.ensure(name, dim)
        self.stored: dict[str, set[str]] = {m: set() for m in modalities} | tables.ids(name)

    def append(self, batches: list[dict[str, tuple[list[str], np.ndarray]]]) -> int:
        """Check and append the (ids, vectors) of every batch and modality not yet stored, in one commit, each batch's
        matrix as one chunk (never concatenated); returns the rows written."""
        chunks: list[tuple[str, list[str], np.ndarray]] = []
        seen: dict[str, set[str]] = {}
        for rows in batches:
            for modality, (ids, vectors) in rows.items():
                chunks.append(self._fresh(modality, [str(i) for i in ids], vectors, seen.setdefault(modality, set())))
        written = self.tables.append(self.name, chunks, self.value_type)
        for modality, ids, _ in chunks:
            self.stored[modality].update(ids)
        return written

    def _fresh(self, modality: str, ids: list[str], vectors: np.ndarray,
               seen: set[str]) -> tuple[str, list[str], np.ndarray]:
        """The checked (modality, ids, vectors) of keys not stored yet; an id twice in one append (`seen`: the ids of
        this modality in the append so far) is an error."""
        if modality not in self.modalities:
            raise GapscopeError(f"{self.what}: the dataset has no modality {modality!r} "
                                f"(has {', '.join(self.modalities)})")
        check_vectors(f"{self.what}, {modality}", ids, vectors, self.dim)
        before = len(seen)
        seen.update(ids)
        if len(seen) != before + len(ids):
            raise GapscopeError(f"{self.what}, {modality}: an item id occurs twice in one append")
        stored = self.stored[modality]
        if not stored or stored.isdisjoint(ids):
            return modality, ids, vectors
        keep = [k for k, item in enumerate(ids) if item not in stored]
        return modality, [ids[k] for k in keep], np.asarray(vectors)[keep]
