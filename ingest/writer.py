"""What an ingest reads from and writes to the store: what is already embedded, and one batch at a time.

Each batch is written as items first (one short DuckDB transaction), then embeddings per modality (one LanceDB
commit each); both ignore keys already present, so a run killed anywhere and run again writes every item once.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from dashboard.errors import GapscopeError
from dashboard.store import Store
from dashboard.store.schema import ITEM_COLUMNS, VECTOR_DIR
from dashboard.store.vectors import VectorTables, table_name
from ingest.base import Encoder, Record
from ingest.prepare import Prepared


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
    """Item rows of prepared records: fixed columns, the record's extra fields as columns (to the JSON extra)."""
    rows = [_row(p.record, p.position, p.thumbnail) for p in prepared]
    return pd.DataFrame(rows) if rows else pd.DataFrame(columns=["item_id"])


def _row(record: Record, position: int, thumbnail: bytes | None) -> dict[str, Any]:
    """One item row."""
    row = {"item_id": record.item_id, "ordinal": position, "text": record.text, "image_ref": record.image_ref,
           "audio_ref": record.audio_ref, "molecule": record.molecule, "thumbnail": thumbnail}
    for key, value in record.extra.items():
        column = key if key not in ITEM_COLUMNS and key != "dataset" else f"extra_{key}"
        row[column] = value
    return row


def write_batch(store: Store, dataset: str, model: str, prepared: list[Prepared], vectors: dict[str, tuple[list[str], np.ndarray]]) -> None:
    """Items, then each modality's embeddings."""
    if prepared:
        store.add_items(dataset, items_frame(prepared))
    for modality, (ids, matrix) in vectors.items():
        if ids:
            store.add_embeddings(dataset, model, modality, ids, matrix)


def compact(store: Store, dataset: str, model: str) -> None:
    """Merge the small files the batch-by-batch commits left into larger ones (readers keep their version)."""
    tables = VectorTables(store.path / VECTOR_DIR)
    name = table_name(dataset, model)
    if name in tables.names():
        tables.open(name).optimize()
