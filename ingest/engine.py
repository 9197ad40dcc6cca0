"""The local ingest engine: plan what is left to embed, decode in parallel workers, encode batches, write each batch.

`run_ingest` opens the dataset and loads the model by name; `ingest_source` does the work for an opened source and
an encoder factory (what tests and other engines reuse). Decoding runs in worker processes forked before the store
is opened (ingest.decode_pool); batches arrive collated (same-shape tensors stacked, pinned
when the device is CUDA) and are encoded in the main process, while the previous batch is written by a writer thread.
"""
from __future__ import annotations

import os
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

from dashboard.errors import GapscopeError
from dashboard.store import Store
from ingest import writer
from ingest.base import DatasetSource, Encoder, Record
from ingest.datasets import open_dataset
from ingest.decode_pool import DecodePool
from ingest.prepare import Batch, as_list, present
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
    config: dict[str, Any] = field(default_factory=dict)


def resolve_device(device: str) -> str:
    """'auto' is cuda when a GPU is visible, else cpu."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def select(records: list[Record], limit: int | None, sample: int | None, seed: int) -> list[tuple[int, Record]]:
    """(position, record) pairs chosen: a seeded random sample of N (kept in order), then the first `limit`."""
    seen: set[str] = set()
    for record in records:
        if record.item_id in seen:
            raise GapscopeError(f"dataset: item id {record.item_id!r} occurs more than once")
        seen.add(record.item_id)
    chosen = list(enumerate(records))
    if sample is not None and sample < len(chosen):
        keep = np.sort(np.random.default_rng(seed).choice(len(chosen), size=sample, replace=False))
        chosen = [chosen[k] for k in keep]
    return chosen[:limit] if limit is not None else chosen


def pending(source: DatasetSource, chosen: list[tuple[int, Record]], modalities: list[str],
            done: dict[str, set[str]]) -> list[tuple[int, Record]]:
    """The chosen records not yet embedded in every modality they have."""
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


def encode_batch(encoder: Encoder, batch: Batch, device: str) -> dict[str, tuple[list[str], np.ndarray]]:
    """Embeddings of a collated batch, by modality, with their item ids."""
    out = {}
    for modality, rows in batch.rows.items():
        vectors = np.asarray(encoder.encode(modality, as_list(batch.inputs[modality], device)), dtype=np.float32)
        out[modality] = ([batch.good[k].record.item_id for k in rows], vectors)
    return out


def progress_bar(total: int, enabled: bool, what: str) -> Any:
    """A tqdm bar on stderr with items/s and ETA."""
    from tqdm import tqdm

    return tqdm(total=total, unit="item", desc=what, file=sys.stderr, disable=not enabled, dynamic_ncols=True,
                smoothing=0.1)


def run_batches(store: Store, dataset: str, encoder: Encoder, stream: Iterable[Batch], report: IngestReport,
                bar: Any, device: str) -> None:
    """Encode each batch and hand it to a writer thread (at most one write in flight)."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="gapscope-writer") as pool:
        inflight: Future | None = None
        for batch in stream:
            vectors = encode_batch(encoder, batch, device)
            if inflight is not None:
                inflight.result()
            inflight = pool.submit(writer.write_batch, store, dataset, encoder.name, batch.good, vectors)
            report.embedded += len(batch.good)
            report.bad += [{"item_id": p.record.item_id, "reason": p.bad} for p in batch.bad]
            bar.update(len(batch.good) + len(batch.bad))
        if inflight is not None:
            inflight.result()


def finish(store: Store, dataset: str, encoder: Encoder, report: IngestReport, started: float, options: Options) -> IngestReport:
    """Precompute the dashboard's artefacts (when that module exists and it is wanted), write the report.

    A precompute that cannot run (e.g. the model embeds only some of the dataset's modalities) is noted in the
    report; the embeddings stay, and `gapscope precompute` can be run later."""
    import importlib.util

    if options.precompute and report.embedded and importlib.util.find_spec("dashboard.precompute") is not None:
        from dashboard.precompute import precompute

        try:
            precompute(store, dataset, encoder.name, umap=options.umap, tsne=options.tsne)
            report.precomputed = True
        except GapscopeError as exc:
            report.precompute_error = str(exc)
    report.seconds = time.monotonic() - started
    report.write()
    return report


def ingest_source(store_path: str | Path, source: DatasetSource, make_encoder: Callable[[], Encoder], kind: str,
                  origin: str, name: str | None = None, options: Options | None = None) -> IngestReport:
    """Embed the pending records of an opened source with the encoder `make_encoder` builds; resumable."""
    options = options or Options()
    started = time.monotonic()
    encoder = make_encoder()
    dataset = name or source.name
    modalities = embed_modalities(source, encoder)
    configure(source, options)
    with DecodePool(source, encoder, modalities, options.workers, options.batch_size,
                    pin_memory=options.device.startswith("cuda")) as pool:
        store = Store.create(store_path)
        writer.register(store, dataset, source, kind, origin, encoder, options.config)
        chosen = select(list(source.records()), options.limit, options.sample, options.seed)
        work = pending(source, chosen, modalities, store.embedded_ids(dataset, encoder.name))
        report = IngestReport(str(store.path), dataset, encoder.name, "local", len(chosen), len(chosen) - len(work))
        if work:
            with progress_bar(len(work), options.progress, f"{dataset} x {encoder.name}") as bar:
                run_batches(store, dataset, encoder, pool.run(work), report, bar, options.device)
            writer.compact(store, dataset, encoder.name)
    return finish(store, dataset, encoder, report, started, options)


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


def run_ingest(store_path: str | Path, dataset_type: str, source: str, model_spec: str, pretrained: str | None = None,
               name: str | None = None, device: str = "auto", batch_size: int | None = None, workers: int | None = None,
               limit: int | None = None, sample: int | None = None, seed: int = 0, precision: str = "auto",
               engine: str = "local", progress: bool = True, precompute: bool = True, umap: bool = True,
               tsne: bool = True, draft: int = 0, dataset_options: dict[str, Any] | None = None,
               model_name: str | None = None) -> IngestReport:
    """Ingest a registered dataset type from `source` with a registered model into the store at `store_path`
    (under `model_name`, default the model's NAME)."""
    if engine not in ("local", "ray"):
        raise GapscopeError(f"engine {engine!r}: unknown (known: local, ray)")
    opened = open_dataset(dataset_type, source, **(dataset_options or {}))
    device = resolve_device(device)
    batch_size = batch_size or (512 if device.startswith("cuda") else 64)
    options = Options(batch_size=int(batch_size), workers=Options.workers if workers is None else int(workers),
                      device=device, limit=limit, sample=sample, seed=seed, progress=progress, precompute=precompute,
                      umap=umap, tsne=tsne, draft=draft,
                      config={"spec": model_spec, "pretrained": pretrained, "precision": precision})
    factory = ModelFactory(model_spec, pretrained, device, precision, model_name)
    origin = str(Path(source).expanduser().resolve())
    if engine == "ray":
        from ingest.ray_engine import ingest_source_ray

        return ingest_source_ray(store_path, opened, factory, dataset_type, origin, name, options)
    return ingest_source(store_path, opened, factory, dataset_type, origin, name, options)
