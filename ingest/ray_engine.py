"""`--engine ray`: the same ingest on Ray Data, for more than one machine.

The driver plans the pending records exactly as the local engine does; Ray Data decodes them in `map` tasks, a
callable class holding the encoder (GPU actors when the device is CUDA) preprocesses and encodes them in
`map_batches`, and the driver writes each result batch to the store with the same idempotent writer.
Records and decoded inputs travel between tasks as pickled bytes (Arrow binary columns). On a cluster (RAY_ADDRESS
set) the source paths must be readable from every node, e.g. on a shared filesystem.
"""
from __future__ import annotations

import dataclasses
import functools
import os
import pickle
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from dashboard.store import Store
from ingest import engine, writer
from ingest.base import DatasetSource, Encoder, Record
from ingest.prepare import Prepared, collate, model_input, prepare, reason
from ingest.report import IngestReport


class KeepDecoded:
    """Stands in for the encoder in `prepare` so that Ray map tasks only decode (preprocessing runs in the actors)."""

    def preprocess(self, modality: str, decoded: Any) -> Any:
        """The decoded input, unchanged."""
        return decoded


def decode_row(row: dict[str, Any], source: DatasetSource, modalities: list[str]) -> dict[str, Any]:
    """Ray `map`: decode one record's modalities (and its thumbnail); a BadItem marks the row bad."""
    done = prepare(source, KeepDecoded(), row["position"], pickle.loads(row["record"]), modalities)  # type: ignore[arg-type]
    return {"position": row["position"], "record": row["record"], "decoded": pickle.dumps(done.inputs),
            "thumbnail": done.thumbnail or b"", "bad": done.bad or ""}


class EncodeBatch:
    """Ray `map_batches` callable: holds one encoder; preprocesses and encodes a batch of decoded rows."""

    def __init__(self, make_encoder: Callable[[], Encoder], device: str) -> None:
        self.encoder, self.device = make_encoder(), device

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        prepared = [self._prepare(k, batch) for k in range(len(batch["position"]))]
        collated = collate(prepared)
        vectors = engine.encode_batch(self.encoder, collated, self.device)
        per_item: dict[str, dict[str, bytes]] = {p.record.item_id: {} for p in prepared}
        for modality, (ids, matrix) in vectors.items():
            for item, vector in zip(ids, matrix):
                per_item[item][modality] = vector.astype(np.float32).tobytes()
        return {"position": np.array([p.position for p in prepared], dtype=np.int64),
                "record": _objects([pickle.dumps(p.record) for p in prepared]),
                "thumbnail": _objects([p.thumbnail or b"" for p in prepared]),
                "bad": _objects([p.bad or "" for p in prepared]),
                "vectors": _objects([pickle.dumps(per_item[p.record.item_id]) for p in prepared])}

    def _prepare(self, k: int, batch: dict[str, np.ndarray]) -> Prepared:
        """One decoded row preprocessed by the encoder (a BadItem there marks it bad)."""
        out = Prepared(int(batch["position"][k]), pickle.loads(batch["record"][k]),
                       thumbnail=bytes(batch["thumbnail"][k]) or None, bad=str(batch["bad"][k]) or None)
        if out.bad is None:
            modality = "?"
            try:
                for modality, value in pickle.loads(batch["decoded"][k]).items():
                    out.inputs[modality] = self.encoder.preprocess(modality, model_input(self.encoder, out.record, value))
            except Exception as exc:  # noqa: BLE001 - as in prepare(): the item is reported, the run goes on
                out.inputs, out.thumbnail, out.bad = {}, None, reason(modality, exc)
        return out


def _objects(values: list[Any]) -> np.ndarray:
    """A 1-D object array (bytes and strings kept as they are)."""
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def _results(batch: dict[str, np.ndarray], dim: int) -> tuple[list[Prepared], list[Prepared], dict[str, tuple[list[str], np.ndarray]]]:
    """Good items, bad items and embeddings by modality of one result batch."""
    good, bad, per_modality = [], [], {}
    for k in range(len(batch["position"])):
        item = Prepared(int(batch["position"][k]), pickle.loads(batch["record"][k]),
                        thumbnail=bytes(batch["thumbnail"][k]) or None, bad=str(batch["bad"][k]) or None)
        (bad if item.bad else good).append(item)
        for modality, raw in pickle.loads(batch["vectors"][k]).items():
            per_modality.setdefault(modality, []).append((item.record.item_id, np.frombuffer(raw, dtype=np.float32)))
    vectors = {m: ([i for i, _ in rows], np.stack([v for _, v in rows]).reshape(len(rows), dim)) for m, rows in per_modality.items()}
    return good, bad, vectors


def _dataset(work: list[tuple[int, Record]], source: DatasetSource, modalities: list[str],
             make_encoder: Callable[[], Encoder], options: engine.Options) -> Any:
    """The Ray Data pipeline: items -> decode (map) -> encode (map_batches on actors)."""
    import ray

    gpus = 1 if options.device.startswith("cuda") else 0
    actors = max(1, int(ray.cluster_resources().get("GPU", 0))) if gpus else 1
    items = ray.data.from_items([{"position": k, "record": pickle.dumps(r)} for k, r in work])
    decoded = items.map(functools.partial(decode_row, source=source, modalities=modalities))
    return decoded.map_batches(EncodeBatch, fn_constructor_kwargs={"make_encoder": make_encoder, "device": options.device},
                               batch_size=options.batch_size, batch_format="numpy", concurrency=actors, num_gpus=gpus)


def _driver_encoder(make_encoder: Callable[[], Encoder]) -> Encoder:
    """The encoder's description for the driver (loaded on CPU: the driver only registers the model)."""
    if isinstance(make_encoder, engine.ModelFactory):
        make_encoder = dataclasses.replace(make_encoder, device="cpu")
    return make_encoder()


def _connect(options: engine.Options) -> None:
    """Join the cluster named by RAY_ADDRESS, or start a local Ray instance with `workers` CPUs."""
    import ray

    if os.environ.get("RAY_ADDRESS"):
        ray.init()
    else:
        ray.init(num_cpus=max(1, options.workers) if options.workers else None, include_dashboard=False)


def ingest_source_ray(store_path: str | Path, source: DatasetSource, make_encoder: Callable[[], Encoder], kind: str,
                      origin: str, name: str | None = None, options: engine.Options | None = None) -> IngestReport:
    """Embed the pending records of an opened source on Ray Data; resumable and idempotent like the local engine."""
    import ray

    options = options or engine.Options()
    started = time.monotonic()
    if not ray.is_initialized():
        _connect(options)
    ray.data.DataContext.get_current().enable_progress_bars = False
    store = Store.create(store_path)
    encoder = _driver_encoder(make_encoder)
    dataset = name or source.name
    modalities = engine.embed_modalities(source, encoder)
    engine.configure(source, options)
    writer.register(store, dataset, source, kind, origin, encoder, options.config)
    chosen = engine.select(list(source.records()), options.limit, options.sample, options.seed)
    work = engine.pending(source, chosen, modalities, store.embedded_ids(dataset, encoder.name))
    report = IngestReport(str(store.path), dataset, encoder.name, "ray", len(chosen), len(chosen) - len(work))
    if work:
        with engine.progress_bar(len(work), options.progress, f"{dataset} x {encoder.name} (ray)") as bar:
            stream = _dataset(work, source, modalities, make_encoder, options)
            for batch in stream.iter_batches(batch_size=options.batch_size, batch_format="numpy"):
                good, bad, vectors = _results(batch, encoder.dim)
                writer.write_batch(store, dataset, encoder.name, good, vectors)
                report.embedded += len(good)
                report.bad += [{"item_id": p.record.item_id, "reason": p.bad} for p in bad]
                bar.update(len(good) + len(bad))
        writer.compact(store, dataset, encoder.name)
    return engine.finish(store, dataset, encoder, report, started, options)
