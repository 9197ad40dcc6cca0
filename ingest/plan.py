"""What both engines share: the run's options, the plan (what is left to embed), the batch sink and the finish.

`make_plan` checks the chosen records' ids, opens the store once, registers the dataset and model in one transaction
on the connection the run's ItemAppender then keeps for the first item commits (one open of the metadata file
for the run, ~20 ms each), opens the run's EmbeddingAppender (the dataset, model and dimension are checked there,
once) and keeps the chosen records whose vectors are not all stored yet. `finish` lets the items' connection go,
precomputes the dashboard's artefacts and writes the run report. Engines run under `frozen_gc`.
"""
from __future__ import annotations

import contextlib
import gc
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pyarrow as pa

from dashboard.errors import GapscopeError
from dashboard.store import Store
from dashboard.store.appender import EmbeddingAppender
from dashboard.store.item_appender import ItemAppender
from ingest import writer
from ingest.base import DatasetSource, Encoder, Record
from ingest.prepare import Batch, present
from ingest.report import IngestReport


@dataclass
class Options:
    """How an ingest runs (the CLI's flags)."""

    batch_size: int = 64
    workers: int = max(1, min(32, (os.cpu_count() or 2) - 1))
    device: str = "cpu"
    limit: int | None = None
    sample: int | None = None
    seed: int = 0
    progress: bool = True
    precompute: bool = True
    umap: bool = True
    tsne: bool = True
    draft: int = 0
    commit_items: int = writer.MAX_ITEMS
    config: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelFactory:
    """Loads a registered model when called; picklable, so Ray actors can build the encoder too."""

    spec: str
    pretrained: str | None
    device: str
    precision: str
    model_name: str | None = None

    def __call__(self) -> Encoder:
        from ingest.models.registry import load_model

        encoder = load_model(self.spec, self.pretrained, self.device, self.precision)
        if self.model_name:
            encoder.name = self.model_name
        return encoder


@dataclass
class Plan:
    """One run: the store, the names, the appenders of its vectors and items, the source's records (and their ids)
    by position, the (position, record) pairs left to embed, the report."""

    store: Store
    dataset: str
    encoder: Encoder
    modalities: list[str]
    appender: EmbeddingAppender
    items: ItemAppender
    records: list[Record]
    item_ids: pa.Array
    work: list[tuple[int, Record]]
    report: IngestReport


@contextlib.contextmanager
def frozen_gc() -> Iterator[None]:
    """Leave the objects alive when a run starts (modules, the records, the model) out of garbage collection until
    it ends: each full collection otherwise walks all of them (about 0.3 s with torch and pandas loaded), several
    times in a run that makes a few objects per item. Forked decoding workers then also share those pages."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def resolve_device(device: str) -> str:
    """'auto' is cuda when a GPU is visible, else cpu."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def select(records: list[Record], limit: int | None, sample: int | None, seed: int) -> list[tuple[int, Record]]:
    """(position, record) pairs chosen: a seeded random sample of N (kept in order), then the first `limit`."""
    item_ids = [r.item_id for r in records]
    if len(set(item_ids)) != len(item_ids):
        twice = next(i for i, count in Counter(item_ids).items() if count > 1)
        raise GapscopeError(f"dataset: item id {twice!r} occurs more than once")
    chosen = list(enumerate(records))
    if sample is not None and sample < len(chosen):
        keep = np.sort(np.random.default_rng(seed).choice(len(chosen), size=sample, replace=False))
        chosen = [chosen[k] for k in keep]
    return chosen[:limit] if limit is not None else chosen


def pending(source: DatasetSource, chosen: list[tuple[int, Record]], modalities: list[str],
            done: dict[str, set[str]]) -> list[tuple[int, Record]]:
    """The chosen records not yet embedded in every modality they have."""
    if not any(done.get(m) for m in modalities):
        return list(chosen)
    return [(k, r) for k, r in chosen
            if not all(r.item_id in done.get(m, ()) for m in modalities if present(source, r, m))]


def configure(source: DatasetSource, options: Options) -> None:
    """Pass the fast-decode size to sources that support it (ListSource.draft)."""
    if options.draft and hasattr(source, "draft"):
        source.draft = int(options.draft)


def embed_modalities(source: DatasetSource, encoder: Encoder) -> list[str]:
    """The dataset's modalities the model embeds; none is an error."""
    shared = [m for m in source.modalities if m in encoder.modalities]
    if not shared:
        raise GapscopeError(f"model {encoder.name!r} ({', '.join(encoder.modalities)}) embeds no modality of dataset "
                            f"{source.name!r} ({', '.join(source.modalities)})")
    return shared


def make_plan(store_path: str | Path, source: DatasetSource, encoder: Encoder, modalities: list[str], kind: str,
              origin: str, name: str | None, options: Options, engine: str,
              records: list[Record] | None = None) -> Plan:
    """Open the store, register the run, and find the chosen records (of `records`, default the source's) not yet
    embedded."""
    records = list(source.records()) if records is None else records
    chosen = select(records, options.limit, options.sample, options.seed)
    store = Store.create(store_path)
    dataset = name or source.name
    with store.registration(dataset) as items:
        writer.register(store, dataset, source, kind, origin, encoder, options.config)
        appender = store.embedding_appender(dataset, encoder.name)
    work = pending(source, chosen, modalities, appender.stored)
    report = IngestReport(str(store.path), dataset, encoder.name, engine, len(chosen), len(chosen) - len(work))
    report.timing.workers = max(1, options.workers)
    item_ids = pa.array([r.item_id for r in records], pa.string())
    return Plan(store, dataset, encoder, modalities, appender, items, records, item_ids, work, report)


def progress_bar(total: int, enabled: bool, what: str) -> Any:
    """A tqdm bar on stderr with items/s and ETA."""
    from tqdm import tqdm

    return tqdm(total=total, unit="item", desc=what, file=sys.stderr, disable=not enabled, dynamic_ncols=True,
                smoothing=0.1)


class BatchSink:
    """Where an engine's encoded batches go: the run's BatchWriter, the report's counts and stage times, the bar
    (whose last line gives the stage times)."""

    def __init__(self, plan: Plan, options: Options, label: str) -> None:
        self.plan, self.options, self.label = plan, options, label

    def __enter__(self) -> "BatchSink":
        self.bar = progress_bar(len(self.plan.work), self.options.progress, self.label)
        self.writer = writer.BatchWriter(self.plan.records, self.plan.appender, self.plan.items, self.plan.report.timing,
                                         max_items=self.options.commit_items)
        return self

    def add(self, batch: Batch, vectors: writer.Vectors, model: float, wait: float) -> None:
        """Queue one encoded batch for commit; count its items and its seconds per stage."""
        self.writer.put(batch.positions, batch.thumbnails, vectors)
        report, timing = self.plan.report, self.plan.report.timing
        timing.decode += batch.seconds
        timing.model, timing.wait = timing.model + model, timing.wait + wait
        timing.batches += 1
        report.embedded += len(batch.positions)
        report.bad += [{"item_id": self.plan.item_ids[k].as_py(), "reason": why} for k, why in batch.bad]
        self.bar.update(len(batch))

    def __exit__(self, *exc: object) -> None:
        """Commit what is queued, then close the bar with the stage times."""
        try:
            self.writer.close()
        finally:
            self.bar.set_postfix_str(self.plan.report.timing.line())
            self.bar.close()


def finish(plan: Plan, started: float, options: Options) -> IngestReport:
    """Let the items' connection go, compact the vectors (after many commits), precompute the dashboard's artefacts
    (when wanted and possible), write the report.

    A precompute that cannot run (e.g. the model embeds only some of the dataset's modalities) is noted in the
    report; the embeddings stay, and `gapscope precompute` can be run later."""
    import importlib.util

    report = plan.report
    plan.items.release()
    if report.timing.commits > writer.COMPACT_AFTER_COMMITS:
        writer.compact(plan.store, plan.dataset, plan.encoder.name)
    if options.precompute and report.embedded and importlib.util.find_spec("dashboard.precompute") is not None:
        from dashboard.precompute import precompute

        try:
            precompute(plan.store, plan.dataset, plan.encoder.name, umap=options.umap, tsne=options.tsne)
            report.precomputed = True
        except GapscopeError as exc:
            report.precompute_error = str(exc)
    report.seconds = time.monotonic() - started
    report.write()
    return report
