"""`--engine ray`: the same ingest on Ray Data, for more than one machine.

The driver plans the pending records exactly as the local engine does (ingest.plan); Ray Data decodes them in
`map_batches` tasks (a batch of records per call, not one call per record), a callable class holding the encoder
(GPU actors when the device is CUDA) preprocesses and encodes them in `map_batches`, and the driver hands each
result batch to the same BatchWriter as the local engine. Records and decoded inputs travel between tasks as pickled
bytes (Arrow binary columns); embeddings come back as one (rows, dim) column per modality with a flag column saying
which rows have one. On a cluster (RAY_ADDRESS set) the source paths must be readable from every node, e.g. on a
shared filesystem.
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
import pyarrow as pa

from ingest.base import DatasetSource, Encoder, Record
from ingest.plan import (BatchSink, ModelFactory, Options, Plan, configure, embed_modalities, finish, frozen_gc,
                         make_plan)
from ingest.prepare import Batch, Prepared, Preparer, collate, encode_batch, ids_at, model_input, reason
from ingest.report import IngestReport


class KeepDecoded:
    """Stands in for the encoder in `prepare` so that Ray map tasks only decode (preprocessing runs in the actors)."""

    def preprocess(self, modality: str, decoded: Any) -> Any:
        """The decoded input, unchanged."""
        return decoded


def decode_rows(batch: dict[str, np.ndarray], source: DatasetSource, modalities: list[str]) -> dict[str, np.ndarray]:
    """Ray `map_batches`: decode a batch of records' modalities (and thumbnails); a BadItem marks a row bad."""
    make = Preparer(source, KeepDecoded(), modalities)  # type: ignore[arg-type]
    done, seconds = [], []
    for position, record in zip(batch["position"], batch["record"]):
        started = time.perf_counter()
        done.append(make(int(position), pickle.loads(record)))
        seconds.append(time.perf_counter() - started)
    return {"position": batch["position"], "record": batch["record"],
            "decoded": _objects([pickle.dumps(p.inputs) for p in done]),
            "thumbnail": _objects([p.thumbnail or b"" for p in done]), "bad": _objects([p.bad or "" for p in done]),
            "decode_s": np.array(seconds)}


class EncodeBatch:
    """Ray `map_batches` callable: holds one encoder; preprocesses and encodes a batch of decoded rows."""

    def __init__(self, make_encoder: Callable[[], Encoder], modalities: list[str]) -> None:
        self.encoder, self.modalities = make_encoder(), modalities

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        started = time.perf_counter()
        prepared = [self._prepare(k, batch) for k in range(len(batch["position"]))]
        collated = collate(prepared)
        vectors = encode_batch(self.encoder, collated, {p.position: p.record.item_id for p in prepared})
        index = {p.record.item_id: k for k, p in enumerate(prepared)}
        out = {key: batch[key] for key in ("position", "decode_s")}
        out["thumbnail"] = _objects([p.thumbnail or b"" for p in prepared])
        out["bad"] = _objects([p.bad or "" for p in prepared])
        for modality in self.modalities:
            ids, matrix = vectors.get(modality, (pa.array([], pa.string()), np.zeros((0, self.encoder.dim), np.float32)))
            rows = np.array([index[i] for i in ids.to_pylist()], dtype=np.int64)
            out[f"has_{modality}"] = np.zeros(len(prepared), dtype=bool)
            out[f"has_{modality}"][rows] = True
            out[f"vec_{modality}"] = np.zeros((len(prepared), self.encoder.dim), dtype=np.float32)
            out[f"vec_{modality}"][rows] = matrix
        out["model_s"] = np.full(len(prepared), (time.perf_counter() - started) / max(1, len(prepared)))
        return out

    def _prepare(self, k: int, batch: dict[str, np.ndarray]) -> Prepared:
        """One decoded row preprocessed by the encoder (a BadItem there marks it bad)."""
        out = Prepared(int(batch["position"][k]), pickle.loads(batch["record"][k]),
                       thumbnail=bytes(batch["thumbnail"][k]) or None, bad=str(batch["bad"][k]) or None)
        if out.bad is None:
            modality = "?"
            try:
                for modality, value in pickle.loads(batch["decoded"][k]).items():
                    out.inputs[modality] = self.encoder.preprocess(modality, model_input(self.encoder, out.record, value))
            except Exception as exc:  # noqa: BLE001 - as in Preparer: the item is reported, the run goes on
                out.inputs, out.thumbnail, out.bad = {}, None, reason(modality, exc)
        return out


def _objects(values: list[Any]) -> np.ndarray:
    """A 1-D object array (bytes and strings kept as they are)."""
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def _results(batch: dict[str, np.ndarray], modalities: list[str], item_ids: pa.Array) -> tuple[Batch, dict]:
    """One result batch as the local engine's Batch (good positions, thumbnails, bad items, decode seconds) and its
    embeddings by modality (ids, matrix)."""
    positions = np.asarray(batch["position"], dtype=np.int64)
    bad = np.array([bool(reason) for reason in batch["bad"]], dtype=bool)
    vectors = {}
    for modality in modalities:
        has = np.asarray(batch[f"has_{modality}"], dtype=bool)
        if has.any():
            vectors[modality] = (ids_at(item_ids, positions[has]), np.asarray(batch[f"vec_{modality}"])[has])
    thumbnails = [bytes(t) or None for t in batch["thumbnail"][~bad]]
    failed = [(int(k), str(why)) for k, why in zip(positions[bad], batch["bad"][bad])]
    return Batch(positions[~bad], thumbnails, {}, {}, failed, float(np.sum(batch["decode_s"]))), vectors


def _dataset(work: list[tuple[int, Record]], source: DatasetSource, modalities: list[str],
             make_encoder: Callable[[], Encoder], options: Options) -> Any:
    """The Ray Data pipeline: items -> decode (map) -> encode (map_batches on actors)."""
    import ray

    gpus = 1 if options.device.startswith("cuda") else 0
    actors = max(1, int(ray.cluster_resources().get("GPU", 0))) if gpus else 1
    items = ray.data.from_items([{"position": k, "record": pickle.dumps(r)} for k, r in work])
    decoded = items.map_batches(functools.partial(decode_rows, source=source, modalities=modalities),
                                batch_size=options.batch_size, batch_format="numpy")
    return decoded.map_batches(EncodeBatch, fn_constructor_kwargs={"make_encoder": make_encoder, "modalities": modalities},
                               batch_size=options.batch_size, batch_format="numpy", concurrency=actors, num_gpus=gpus)


def _driver_encoder(make_encoder: Callable[[], Encoder]) -> Encoder:
    """The encoder's description for the driver (loaded on CPU: the driver only registers the model)."""
    if isinstance(make_encoder, ModelFactory):
        make_encoder = dataclasses.replace(make_encoder, device="cpu")
    return make_encoder()


def connect(workers: int) -> None:
    """Join the cluster named by RAY_ADDRESS, or start a local Ray instance with `workers` CPUs."""
    import ray

    if os.environ.get("RAY_ADDRESS"):
        ray.init()
    else:
        ray.init(num_cpus=max(1, workers) if workers else None, include_dashboard=False)


def run_stream(plan: Plan, stream: Any, options: Options) -> None:
    """Hand each result batch of the Ray pipeline to the run's sink (writer, counts, stage times, bar)."""
    with BatchSink(plan, options, f"{plan.dataset} x {plan.encoder.name} (ray)") as sink:
        waited = time.perf_counter()
        for batch in stream.iter_batches(batch_size=options.batch_size, batch_format="numpy"):
            wait = time.perf_counter() - waited
            collated, vectors = _results(batch, plan.modalities, plan.item_ids)
            sink.add(collated, vectors, model=float(np.sum(batch["model_s"])), wait=wait)
            waited = time.perf_counter()


def ingest_source_ray(store_path: str | Path, source: DatasetSource, make_encoder: Callable[[], Encoder], kind: str,
                      origin: str, name: str | None = None, options: Options | None = None) -> IngestReport:
    """Embed the pending records of an opened source on Ray Data; resumable and idempotent like the local engine."""
    import ray

    options = options or Options()
    started = time.monotonic()
    if not ray.is_initialized():
        connect(options.workers)
    ray.data.DataContext.get_current().enable_progress_bars = False
    with frozen_gc():
        loading = time.monotonic()
        encoder = _driver_encoder(make_encoder)
        load = time.monotonic() - loading
        modalities = embed_modalities(source, encoder)
        configure(source, options)
        plan = make_plan(store_path, source, encoder, modalities, kind, origin, name, options, "ray")
        plan.items.release()  # the Ray pipeline takes seconds to start: readers get the file meanwhile
        plan.report.timing.load = load
        if plan.work:
            run_stream(plan, _dataset(plan.work, source, modalities, make_encoder, options), options)
    return finish(plan, started, options)
