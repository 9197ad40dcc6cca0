"""The metadata tables offered to SQL, read from a store without ever opening it for writing."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd

from dashboard.store import Store

ITEM_COLUMNS = ["item_id", "ordinal", "text", "image_ref", "audio_ref", "molecule"]


def _extra_column(values: list) -> pd.Series:
    """One field of the items' `extra` JSON as a column: numeric or boolean when every value is, text otherwise."""
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return pd.Series(values, dtype="boolean")
    if present and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        return pd.to_numeric(pd.Series(values, dtype="object"))
    return pd.Series([v if v is None or isinstance(v, str) else json.dumps(v) for v in values], dtype="string")


def extra_columns(extra: pd.Series) -> pd.DataFrame:
    """The `extra` JSON of each item spread into one column per field."""
    records = [json.loads(x) if isinstance(x, str) and x else {} for x in extra]
    records = [r if isinstance(r, dict) else {"extra": r} for r in records]
    names = list(dict.fromkeys(k for r in records for k in r))
    return pd.DataFrame({k: _extra_column([r.get(k) for r in records]) for k in names}, index=extra.index)


def items_table(store: Store, dataset: str) -> pd.DataFrame:
    """The items view: known columns, one column per `extra` field, and whether a thumbnail is stored."""
    items = store.items(dataset)
    thumbs = store.query("SELECT item_id, thumbnail IS NOT NULL AS has_thumbnail FROM items WHERE dataset = ?", [dataset])
    frame = items[ITEM_COLUMNS].copy()
    for column in ["text", "image_ref", "audio_ref", "molecule"]:
        frame[column] = frame[column].astype("string")
    frame["has_thumbnail"] = frame["item_id"].map(dict(zip(thumbs["item_id"], thumbs["has_thumbnail"]))).astype(bool)
    extras = extra_columns(items["extra"])
    extras = extras[[c for c in extras.columns if c not in frame.columns]]
    return pd.concat([frame, extras], axis=1)


def embedded_models(store: Store, dataset: str) -> dict[str, list[str]]:
    """Models that embedded the dataset, each with the modalities it embedded."""
    coverage = store.coverage()
    coverage = coverage[(coverage["dataset"] == dataset) & (coverage["count"] > 0)]
    return {str(m): sorted(group["modality"].astype(str)) for m, group in coverage.groupby("model", sort=True)}


def models_table(store: Store, dataset: str, embedded: dict[str, list[str]] | None = None) -> pd.DataFrame:
    """The models view: the models that embedded the dataset (`embedded`, embedded_models' answer, when known),
    with their modalities, dimension and logit scale."""
    embedded = embedded_models(store, dataset) if embedded is None else embedded
    models = store.models()
    models = models[models["name"].isin(list(embedded))].reset_index(drop=True)
    models["embedded"] = [embedded[m] for m in models["name"]]
    return models[["name", "family", "modalities", "embedded", "dim", "logit_scale", "source", "config"]]


def datasets_table(store: Store) -> pd.DataFrame:
    """The datasets view: every dataset in the store with its modalities and item count."""
    frame = store.datasets()
    frame["items"] = frame["items"].astype(np.int64)
    return frame
