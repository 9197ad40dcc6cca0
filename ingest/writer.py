"""What an ingest writes to the store: the run's registration, then encoded batches grouped into large commits.

`BatchWriter` takes encoded batches from the engine and commits them from its own thread, so no store commit sits on
the model's path. Several batches go into one commit: a group waits (at most MAX_SECONDS from its first batch) until
it has MIN_ITEMS items, then takes whatever else is queued already, up to MAX_ITEMS; so a commit is 0.1 s of work or
more, groups follow the stream's pace (one commit's backlog), and the last one, after the stream ends, is small. The
first group takes what is queued without waiting, so vectors start to go in early. Each group goes in as the items
first (one DuckDB transaction through the run's ItemAppender, whose connection is kept across commits for at most
a second and let go when the writer has waited IDLE_SECONDS for work: dashboard.store.item_appender; items already
present are kept), then every modality's vectors in one LanceDB append through the run's EmbeddingAppender (keys
already stored are left out). An item counts as done only once its vectors are committed, so a run killed anywhere
loses the uncommitted group, the next run re-embeds it, and every item ends up in the store exactly once. The two
commits of a group run in order on two threads, so group k+1's items go in while group k's vectors are appended
(items committed ahead of their vectors are simply not done yet). Items go to DuckDB as one Arrow table per group,
item ids to LanceDB as Arrow strings (no Python loop per item on the writer's path).
"""
from __future__ import annotations

import queue
import threading
import time
from typing import Any

import numpy as np
import pyarrow as pa

from dashboard.errors import GapscopeError
from dashboard.store import Store
from dashboard.store.store import extra_json
from dashboard.store.appender import EmbeddingAppender
from dashboard.store.item_appender import ItemAppender
from dashboard.store.schema import ITEM_COLUMNS, VECTOR_DIR
from dashboard.store.vectors import VectorTables, table_name
from ingest.base import Encoder, Record
from ingest.report import Timing

MAX_ITEMS = 16384
MIN_ITEMS = 8192
MAX_SECONDS = 1.0
QUEUED_BATCHES = 32
IDLE_SECONDS = 0.25
COMPACT_AFTER_COMMITS = 32
Vectors = dict[str, tuple[pa.Array, np.ndarray]]
Entry = tuple[np.ndarray, list[bytes | None], Vectors]


def register(store: Store, dataset: str, source: Any, kind: str, origin: str, encoder: Encoder, config: dict) -> None:
    """Register the dataset (unless present) and the model; a different model already stored under the same name
    is a one-line error (its embeddings would otherwise count as done)."""
    models = store.models().set_index("name")["source"]
    if encoder.name in models.index and models[encoder.name] != encoder.source:
        raise GapscopeError(f"model {encoder.name!r}: the store already has a model of that name from "
                            f"{models[encoder.name]} (this run: {encoder.source}); pass --model-name to store it "
                            f"under another name")
    if dataset not in set(store.query("SELECT name FROM datasets")["name"]):
        store.add_dataset(dataset, source.modalities, kind=kind, source=origin, description=f"{kind} dataset from {origin}")
    bias = getattr(encoder, "logit_bias", None)
    store.add_model(encoder.name, encoder.modalities, encoder.dim, encoder.logit_scale, family=encoder.family,
                    source=encoder.source, config=config if bias is None else {**config, "logit_bias": float(bias)})


def items_table(records: list[Record], positions: np.ndarray, thumbnails: list[bytes | None]) -> pa.Table:
    """Item rows of the records at `positions` (with their thumbnails) as Arrow in the items table's layout, built
    column by column; the records' extra fields go to the JSON extra (a field named like a fixed column is kept as
    extra_<name>)."""
    chosen = [records[k] for k in positions]
    keys = list(dict.fromkeys(k for r in chosen for k in r.extra))
    names = {k: k if k not in ITEM_COLUMNS and k != "dataset" else f"extra_{k}" for k in keys}
    extra = [extra_json({names[k]: r.extra.get(k) for k in keys}) for r in chosen] if keys else None
    return pa.table({
        "item_id": pa.array([r.item_id for r in chosen], pa.string()),
        "ordinal": pa.array(np.asarray(positions, dtype=np.int64), pa.int64()),
        **{c: pa.array([None if getattr(r, c) is None else str(getattr(r, c)) for r in chosen], pa.string())
           for c in ("text", "image_ref", "audio_ref", "molecule")},
        "thumbnail": pa.array(thumbnails, pa.binary()),
        "extra": pa.array(extra, pa.string()) if extra else pa.nulls(len(chosen), pa.string())})


class BatchWriter:
    """Commits encoded batches from two writer threads, several per commit (see the module docstring): one gathers
    groups and commits their items, the other appends each group's vectors after its items, so a group's items go
    in while the previous group's vectors are appended."""

    def __init__(self, records: list[Record], appender: EmbeddingAppender, items: ItemAppender, timing: Timing,
                 max_items: int = MAX_ITEMS, max_seconds: float = MAX_SECONDS) -> None:
        self.records, self.appender, self.items, self.timing = records, appender, items, timing
        self.max_items, self.max_seconds = max_items, max_seconds
        self.queue: queue.Queue = queue.Queue(maxsize=QUEUED_BATCHES)
        self.vectors: queue.Queue = queue.Queue(maxsize=1)
        self.error: BaseException | None = None
        self.groups = 0
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._items_loop, name="gapscope-items", daemon=True),
                        threading.Thread(target=self._vectors_loop, name="gapscope-vectors", daemon=True)]
        for thread in self.threads:
            thread.start()

    def put(self, positions: np.ndarray, thumbnails: list[bytes | None], vectors: Vectors) -> None:
        """Queue one encoded batch, its good items by position in the run's records with their thumbnails (blocks
        while QUEUED_BATCHES wait); raises the writer's error, if any."""
        self._raise()
        self.queue.put((positions, thumbnails, vectors))

    def close(self) -> None:
        """Commit what is queued, stop the threads, raise their error if they had one."""
        self.queue.put(None)
        for thread in self.threads:
            thread.join()
        self.items.release()
        self._raise()

    def __enter__(self) -> "BatchWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _raise(self) -> None:
        """Re-raise an error of a writer thread here."""
        if self.error is not None:
            raise self.error

    def _items_loop(self) -> None:
        """Gather groups and commit their items until the stop sign, handing each group on to the vectors thread;
        after an error, only drain the queue. The connection is let go after the last items commit, so its close
        (DuckDB checkpoints there) overlaps the last vectors append."""
        finished = False
        try:
            while not finished:
                group, finished = self._gather()
                if group and self.error is None:
                    self._guarded(self._commit_items, group)
                    self.vectors.put(group)
        finally:
            self.vectors.put(None)
            self.items.release()

    def _vectors_loop(self) -> None:
        """Append each group's vectors (its items are committed) until the stop sign."""
        while (group := self.vectors.get()) is not None:
            if self.error is None:
                self._guarded(self._commit_vectors, group)

    def _guarded(self, commit: Any, group: list[Entry]) -> None:
        """Run one commit stage, keeping its error for the engine's thread (later groups are then dropped)."""
        try:
            commit(group)
        except BaseException as exc:  # noqa: BLE001 - handed to the engine's thread by put/close
            self.error = self.error or exc

    def _gather(self) -> tuple[list[Entry], bool]:
        """The next group of batches (see the module docstring), and whether the stop sign came."""
        first = self._next()
        if first is None:
            return [], True
        group, items, deadline = [first], len(first[0]), time.monotonic() + self.max_seconds
        least = min(MIN_ITEMS, self.max_items) if self.groups else 1
        self.groups += 1
        while items < self.max_items:
            try:
                entry = self.queue.get(timeout=max(0.0, deadline - time.monotonic()) if items < least else 0.0)
            except queue.Empty:
                break
            if entry is None:
                return group, True
            group.append(entry)
            items += len(entry[0])
        return group, False

    def _next(self) -> Entry | None:
        """The next queued batch; the items connection is let go first when none comes within IDLE_SECONDS."""
        try:
            return self.queue.get(timeout=IDLE_SECONDS)
        except queue.Empty:
            self.items.release()
            return self.queue.get()

    def _commit_items(self, group: list[Entry]) -> None:
        """The group's items in one DuckDB transaction (items already present are kept)."""
        started = time.perf_counter()
        positions = np.concatenate([entry[0] for entry in group])
        if len(positions):
            thumbnails = [t for entry in group for t in entry[1]]
            self.items.append(items_table(self.records, positions, thumbnails))
        with self.lock:
            self.timing.write += time.perf_counter() - started

    def _commit_vectors(self, group: list[Entry]) -> None:
        """The group's vectors in one LanceDB append (only after its items are committed)."""
        started = time.perf_counter()
        self.appender.append([entry[2] for entry in group if entry[2]])
        with self.lock:
            self.timing.write += time.perf_counter() - started
            self.timing.commits += 1


def compact(store: Store, dataset: str, model: str) -> None:
    """Merge the files of many commits into larger ones (readers keep their version); a run of up to
    COMPACT_AFTER_COMMITS commits leaves few enough files that rewriting them all would cost more than it saves."""
    tables = VectorTables(store.path / VECTOR_DIR)
    name = table_name(dataset, model)
    if name in tables.names():
        tables.open(name).optimize()
