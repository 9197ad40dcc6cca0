"""The local ingest engine: decode in forked workers, encode batches in this process, commit from a writer thread.

Decoding runs in worker processes forked before the store is opened (ingest.decode_pool); batches arrive collated
(same-shape tensors stacked, pinned when the device is CUDA) and go to the encoder as they are; the encoded batches
are handed to a BatchWriter, which groups them into large commits off the model's path. Each stage's time is kept
in the report (decode in the workers, the encoder's wait for a batch, the model, the writer).
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, Iterable

from ingest.base import DatasetSource, Encoder
from ingest.decode_pool import DecodePool
from ingest.plan import BatchSink, Options, Plan, configure, embed_modalities, finish, frozen_gc, make_plan
from ingest.prepare import Batch, encode_batch
from ingest.report import IngestReport


def run_batches(plan: Plan, stream: Iterable[Batch], options: Options) -> None:
    """Encode each batch as it arrives and hand it to the run's sink (writer, counts, stage times, bar)."""
    with BatchSink(plan, options, f"{plan.dataset} x {plan.encoder.name}") as sink:
        waited = time.perf_counter()
        for batch in stream:
            started = time.perf_counter()
            vectors = encode_batch(plan.encoder, batch, plan.item_ids)
            sink.add(batch, vectors, model=time.perf_counter() - started, wait=started - waited)
            waited = time.perf_counter()


def ingest_source(store_path: str | Path, source: DatasetSource, make_encoder: Callable[[], Encoder], kind: str,
                  origin: str, name: str | None = None, options: Options | None = None) -> IngestReport:
    """Embed the pending records of an opened source with the encoder `make_encoder` builds; resumable."""
    options = options or Options()
    started = time.monotonic()
    with frozen_gc():
        encoder = make_encoder()
        load = time.monotonic() - started
        modalities = embed_modalities(source, encoder)
        configure(source, options)
        records = list(source.records())
        with DecodePool(source, encoder, modalities, records, options.workers, options.batch_size,
                        pin_memory=options.device.startswith("cuda")) as pool:
            plan = make_plan(store_path, source, encoder, modalities, kind, origin, name, options, "local", records)
            plan.report.timing.load = load
            if plan.work:
                run_batches(plan, pool.run(plan.work), options)
    return finish(plan, started, options)
