"""What an ingest writes to the store: the run's registration, then encoded batches grouped into large commits.

`BatchWriter` takes encoded batches from the engine and commits them from its own thread, so no store commit sits
on the model's path. Several batches go into one commit (at most MAX_ITEMS items, or what arrived within
MAX_SECONDS of the group's first batch): the items first (one DuckDB transaction; items already present are kept),
then every modality's vectors in one LanceDB append through the run's EmbeddingAppender (keys already stored are
left out). An item counts as done only once its vectors are committed, so a run killed anywhere loses the
uncommitted group, the next run re-embeds it, and every item ends up in the store exactly once.
"""
from __future__ import annotations

import queue
import threading
import time
from typing import Any

import numpy as np
import pandas as pd

from dashboard.errors import GapscopeError
from dashboard.store import Store
from dashboard.store.appender import EmbeddingAppender
from dashboard.store.schema import ITEM_COLUMNS, VECTOR_DIR
from dashboard.store.vectors import VectorTables, table_name
from ingest.base import Encoder
from ingest.prepare import Prepared
from ingest.report import Timing

MAX_ITEMS = 16384
MAX_SECONDS = 1.0
QUEUED_BATCHES = 32
COMPACT_AFTER_COMMITS = 32
Vectors = dict[str, tuple[list[str], np.ndarray]]


def register(store: Store, dataset: str, source: Any, kind: str, origin: str, encoder: Encoder, config: dict) -> None:
    """Register the dataset (unless present) and the model; a different model already stored under the same name
    is a one-line error (its embeddings would otherwise count as done)."""
    models = store.models().set_index("name")["source"]
    if encoder.name in models.index and models[encoder.name] != encoder.source:
        raise GapscopeError(f"model {encoder.name!r}: the store already has a model of that name from "
                            f"{models[encoder.name]} (this run: {encoder.source}); pass --model-name to store it "
                            f"under another name")
    if dataset not in set(store.datasets()["name"]):
        store.add_dataset(dataset, source.modalities, kind=kind, source=origin, description=f"{kind} dataset from {origin}")
    bias = getattr(encoder, "logit_bias", None)
    store.add_model(encoder.name, encoder.modalities, encoder.dim, encoder.logit_scale, family=encoder.family,
                    source=encoder.source, config=config if bias is None else {**config, "logit_bias": float(bias)})


def items_frame(prepared: list[Prepared]) -> pd.DataFrame:
    """Item rows of prepared records, built column by column: fixed columns, then the records' extra fields (to the
    JSON extra; a field named like a fixed column is kept as extra_<name>)."""
    records = [p.record for p in prepared]
    columns: dict[str, list[Any]] = {
        "item_id": [r.item_id for r in records], "ordinal": [p.position for p in prepared],
        "text": [r.text for r in records], "image_ref": [r.image_ref for r in records],
        "audio_ref": [r.audio_ref for r in records], "molecule": [r.molecule for r in records],
        "thumbnail": [p.thumbnail for p in prepared]}
    for key in dict.fromkeys(k for r in records for k in r.extra):
        column = key if key not in ITEM_COLUMNS and key != "dataset" else f"extra_{key}"
        columns[column] = [r.extra.get(key) for r in records]
    return pd.DataFrame(columns)


def merge(groups: list[Vectors]) -> Vectors:
    """Several batches' vectors as one (ids, matrix) per modality (one concatenation each)."""
    modalities = dict.fromkeys(m for vectors in groups for m in vectors)
    return {m: ([i for vectors in groups if m in vectors for i in vectors[m][0]],
                np.concatenate([vectors[m][1] for vectors in groups if m in vectors])) for m in modalities}


class BatchWriter:
    """Commits encoded batches from a writer thread, several per commit (see the module docstring)."""

    def __init__(self, store: Store, dataset: str, appender: EmbeddingAppender, timing: Timing,
                 max_items: int = MAX_ITEMS, max_seconds: float = MAX_SECONDS) -> None:
        self.store, self.dataset, self.appender, self.timing = store, dataset, appender, timing
        self.max_items, self.max_seconds = max_items, max_seconds
        self.queue: queue.Queue = queue.Queue(maxsize=QUEUED_BATCHES)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._loop, name="gapscope-writer", daemon=True)
        self.thread.start()

    def put(self, prepared: list[Prepared], vectors: Vectors) -> None:
        """Queue one encoded batch (blocks while QUEUED_BATCHES wait); raises the writer's error, if any."""
        self._raise()
        self.queue.put((prepared, vectors))

    def close(self) -> None:
        """Commit what is queued, stop the thread, raise its error if it had one."""
        self.queue.put(None)
        self.thread.join()
        self._raise()

    def __enter__(self) -> "BatchWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _raise(self) -> None:
        """Re-raise an error of the writer thread here."""
        if self.error is not None:
            raise self.error

    def _loop(self) -> None:
        """Gather and commit groups until the stop sign; after an error, only drain the queue."""
        finished = False
        while not finished:
            group, finished = self._gather()
            if group and self.error is None:
                try:
                    self._commit(group)
                except BaseException as exc:  # noqa: BLE001 - handed to the engine's thread by put/close
                    self.error = exc

    def _gather(self) -> tuple[list[tuple[list[Prepared], Vectors]], bool]:
        """The next group of batches, and whether the stop sign came."""
        first = self.queue.get()
        if first is None:
            return [], True
        group, items, deadline = [first], len(first[0]), time.monotonic() + self.max_seconds
        while items < self.max_items:
            try:
                entry = self.queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if entry is None:
                return group, True
            group.append(entry)
            items += len(entry[0])
        return group, False

    def _commit(self, group: list[tuple[list[Prepared], Vectors]]) -> None:
        """Items of the group in one transaction, then its vectors in one append."""
        started = time.perf_counter()
        prepared = [p for batch, _ in group for p in batch]
        if prepared:
            self.store.add_items(self.dataset, items_frame(prepared))
        self.appender.append(merge([vectors for _, vectors in group if vectors]))
        self.timing.write += time.perf_counter() - started
        self.timing.commits += 1


def compact(store: Store, dataset: str, model: str) -> None:
    """Merge the files of many commits into larger ones (readers keep their version); a run of up to
    COMPACT_AFTER_COMMITS commits leaves few enough files that rewriting them all would cost more than it saves."""
    tables = VectorTables(store.path / VECTOR_DIR)
    name = table_name(dataset, model)
    if name in tables.names():
        tables.open(name).optimize()
