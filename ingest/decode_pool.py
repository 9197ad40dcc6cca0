"""Decoding workers of the local engine: forked early, fed chunks of records through a queue, yielding batches.

The workers are forked (the encoder's CPU preprocessing, often closures over the model's transform, comes with them
without pickling) before the store is opened, so no LanceDB/DuckDB state is copied into them mid-operation. Each
worker turns a chunk of records into one collated batch; the workers have the run's records (listed before the
fork), so only positions travel: a chunk goes out as an array of positions and its batch comes back as a few columns
(positions, thumbnails, inputs, bad items: ingest.prepare.Batch), never one object per item. Batches reach the main
process through a torch DataLoader (shared-memory tensors, pinned when the device is CUDA). Workers exit on a
sentinel or when their parent is gone. LanceDB warns on every fork that state mid-operation could deadlock the
child; no store operation is running when the pool forks (and the children never touch the store), so that warning
is silenced here.
"""
from __future__ import annotations

import os
import queue as queue_module
import warnings
from typing import Any, Iterator

import numpy as np
from torch.utils.data import IterableDataset

from ingest.base import DatasetSource, Encoder, Record
from ingest.prepare import Batch, Preparer, prepare_batch

Chunk = list[tuple[int, Record]]
POLL_SECONDS = 2.0


class ChunkDataset(IterableDataset):
    """Each worker takes chunks from the queue and yields their collated batches."""

    def __init__(self, source: DatasetSource, encoder: Encoder, modalities: list[str], records: list[Record],
                 work: Any) -> None:
        super().__init__()
        self.source, self.encoder, self.modalities, self.records, self.work = source, encoder, modalities, records, work
        self.parent = os.getpid()

    def __iter__(self) -> Iterator[Batch]:
        import torch

        torch.set_num_threads(1)
        while os.getppid() == self.parent:
            try:
                chunk = self.work.get(timeout=POLL_SECONDS)
            except queue_module.Empty:
                continue
            if chunk is None:
                return
            yield prepare_batch(self.source, self.encoder, [(int(k), self.records[k]) for k in chunk], self.modalities)


class DecodePool:
    """`workers` forked decoding processes (0: decode in this process); `run(work)` yields collated batches."""

    def __init__(self, source: DatasetSource, encoder: Encoder, modalities: list[str], records: list[Record],
                 workers: int, batch_size: int, pin_memory: bool) -> None:
        self.source, self.encoder, self.modalities, self.records = source, encoder, modalities, records
        self.workers, self.batch_size = max(0, int(workers)), max(1, int(batch_size))
        self.fed = self.stopped = False
        self.work = self.batches = None
        if self.workers:
            self._start(pin_memory)

    def _start(self, pin_memory: bool) -> None:
        """Prepare the first record here (what decoding imports on first use, RDKit or PIL's plugins, is then loaded
        once and shared, not imported in each worker: 67 ms per worker for RDKit), then fork the workers (creating
        the DataLoader iterator starts them)."""
        import multiprocessing

        from torch.utils.data import DataLoader

        if self.records:
            Preparer(self.source, self.encoder, self.modalities)(0, self.records[0])

        context = multiprocessing.get_context("fork")
        self.work = context.Queue()
        dataset = ChunkDataset(self.source, self.encoder, self.modalities, self.records, self.work)
        loader = DataLoader(dataset, batch_size=None, num_workers=self.workers, pin_memory=pin_memory,
                            prefetch_factor=4, multiprocessing_context=context)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="lancedb fork support", category=RuntimeWarning)
            self.batches = iter(loader)

    def _chunks(self, work: list[tuple[int, Record]]) -> list[Chunk]:
        """The work cut into batches."""
        return [work[k:k + self.batch_size] for k in range(0, len(work), self.batch_size)]

    def run(self, work: list[tuple[int, Record]]) -> Iterator[Batch]:
        """Collated batches of `work` (in order without workers; in completion order with them)."""
        if not self.workers:
            for chunk in self._chunks(work):
                yield prepare_batch(self.source, self.encoder, chunk, self.modalities)
            return
        chunks = self._chunks(work)
        for chunk in chunks:
            self.work.put(np.array([k for k, _ in chunk], dtype=np.int64))
        self._feed_sentinels()
        for _ in chunks:
            yield next(self.batches)
        self._stop()

    def _feed_sentinels(self) -> None:
        """One stop sign per worker (once)."""
        if not self.fed:
            for _ in range(self.workers):
                self.work.put(None)
            self.fed = True

    def __enter__(self) -> "DecodePool":
        return self

    def _stop(self) -> None:
        """Stop the workers (finished or not; once). run() stops them as soon as every chunk's batch is in, not when
        the DataLoader ends (it joins the workers' exit first, ~60 ms): their exit then overlaps the writer's last
        commits."""
        if self.workers and not self.stopped:
            self.stopped = True
            self._feed_sentinels()
            shutdown = getattr(self.batches, "_shutdown_workers", None)
            if shutdown is not None:
                shutdown()
            self.work.close()

    def __exit__(self, *exc: object) -> None:
        """Stop the workers (finished or not)."""
        self._stop()
