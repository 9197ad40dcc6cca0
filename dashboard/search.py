"""Nearest neighbours across modalities for one model: of a stored item's embedding, or of a typed text query.

Similarity is the cosine of L2-normalised embeddings (LanceDB's cosine distance d gives similarity 1 - d); hits are
ranked by dashboard.analysis.ranking's rule (similarities within its tolerance tie and share the better rank).
Typed queries need the model's text encoder, which lives in the optional ingest extra (torch); it is imported
only when asked, and its absence is a one-line error saying what to install.
"""
from __future__ import annotations

import functools
import importlib.util
import json
from typing import Any

import numpy as np
import pandas as pd

from dashboard.analysis.ranking import tied_ranks
from dashboard.errors import GapscopeError
from dashboard.store import Store
from dashboard.store.schema import VECTOR_DIR
from dashboard.store.vectors import VectorTables, table_name

MAX_K = 1000
COLUMNS = ["rank", "item_id", "modality", "similarity", "text", "is_query"]


def _quote(text: str) -> str:
    """A Lance filter string literal."""
    return "'" + text.replace("'", "''") + "'"


def _check(store: Store, dataset: str, model: str, k: int, modality: str | None) -> str:
    """The vector table of (dataset, model) after checking the arguments; else a one-line error."""
    modalities = store.dataset(dataset)["modalities"]
    store.model(model)
    if not 1 <= int(k) <= MAX_K:
        raise GapscopeError(f"search: k must be between 1 and {MAX_K}, not {k}")
    if modality is not None and modality not in modalities:
        raise GapscopeError(f"dataset {dataset!r}: has no modality {modality!r} (has {', '.join(modalities)})")
    name = table_name(dataset, model)
    if name not in VectorTables(store.path / VECTOR_DIR).names():
        raise GapscopeError(f"model {model!r}: has not embedded dataset {dataset!r}")
    return name


def item_vector(store: Store, dataset: str, model: str, item_id: str, modality: str) -> np.ndarray:
    """One stored embedding, read by key from LanceDB; a missing one is a one-line error naming the item."""
    name = _check(store, dataset, model, 1, modality)
    table = VectorTables(store.path / VECTOR_DIR).open(name)
    found = table.search().where(f"key = {_quote(f'{modality}/{item_id}')}").select(["vector"]).limit(1).to_arrow()
    if found.num_rows == 0:
        raise GapscopeError(f"item {item_id!r}: has no {modality} embedding from model {model!r} in dataset {dataset!r}")
    return np.asarray(found.column("vector")[0].as_py(), dtype=np.float32)


def _results(store: Store, dataset: str, model: str, query: np.ndarray, k: int, modality: str | None,
             query_item: str | None) -> pd.DataFrame:
    """The k nearest stored embeddings with rank, similarity and caption."""
    if not np.all(np.isfinite(query)) or not np.any(query):
        raise GapscopeError(f"search: the query vector of model {model!r} is zero or not finite")
    hits = store.search(dataset, model, query, k=int(k), modality=modality)
    texts = store.query("SELECT item_id, text FROM items WHERE dataset = ? AND list_contains(?, item_id)",
                        [dataset, hits["item_id"].astype(str).tolist()])
    similarity = 1.0 - hits["_distance"].to_numpy(dtype=float)
    frame = pd.DataFrame({"rank": tied_ranks(similarity), "item_id": hits["item_id"].astype(str),
                          "modality": hits["modality"], "similarity": similarity})
    frame["text"] = frame["item_id"].map(dict(zip(texts["item_id"], texts["text"])))
    frame["is_query"] = frame["item_id"] == query_item
    return frame[COLUMNS]


def neighbours_of_item(store_path: str, dataset: str, model: str, item_id: str, modality: str, k: int = 10,
                       target: str | None = None) -> pd.DataFrame:
    """The k items nearest to an item's `modality` embedding, among the `target` modality (None: all)."""
    store = Store.open(store_path)
    _check(store, dataset, model, k, target)
    query = item_vector(store, dataset, model, str(item_id), modality)
    return _results(store, dataset, model, query, k, target, str(item_id))


def neighbours_of_text(store_path: str, dataset: str, model: str, text: str, k: int = 10,
                       target: str | None = None) -> pd.DataFrame:
    """The k items nearest to a typed text, embedded by the model's text encoder (see text_encoder)."""
    if not text or not text.strip():
        raise GapscopeError("search: the text query is empty")
    store = Store.open(store_path)
    _check(store, dataset, model, k, target)
    record = store.model(model)
    vector = text_embedding(model_spec(record), text.strip())
    if vector.shape != (record["dim"],):
        raise GapscopeError(f"model {model!r}: its text encoder gives vectors of shape {vector.shape}, the store holds dimension {record['dim']}")
    return _results(store, dataset, model, vector, k, target, None)


def model_spec(record: dict[str, Any]) -> tuple[str, str | None]:
    """The ingest registry spec ("FAMILY:NAME") and weights of a stored model, from its config (else its name)."""
    config = record.get("config") or {}
    if isinstance(config, str):
        config = json.loads(config or "{}")
    spec = config.get("spec") or record["name"]
    if ":" not in spec and record.get("family"):
        spec = f"{record['family']}:{spec}"
    return spec, config.get("pretrained")


@functools.lru_cache(maxsize=2)
def _encoder(spec: str, pretrained: str | None) -> Any:
    """A loaded ingest encoder (kept for the next query); ingest and torch are imported only here."""
    from ingest.models.registry import load_model

    return load_model(spec, pretrained)


def text_embedding(model: tuple[str, str | None], text: str) -> np.ndarray:
    """The embedding of a typed text by a model's text encoder; one-line errors when it cannot be loaded."""
    spec, pretrained = model
    try:
        encoder = _encoder(spec, pretrained)
        if "text" not in encoder.modalities:
            raise GapscopeError(f"model {spec!r}: has no text encoder (modalities: {', '.join(encoder.modalities)})")
        batch = [encoder.preprocess("text", text)]
        return np.asarray(encoder.encode("text", batch), dtype=np.float32)[0]
    except GapscopeError:
        raise
    except ImportError as exc:
        raise GapscopeError(f"model {spec!r}: typed queries need the ingest extra (pip install 'gapscope[ingest]'): {exc}") from exc
    except Exception as exc:  # noqa: BLE001 - any failure of an optional, heavy encoder becomes one line
        raise GapscopeError(f"model {spec!r}: cannot embed the text query ({type(exc).__name__}: {exc})".splitlines()[0]) from exc


def text_search_available(record: dict[str, Any]) -> str | None:
    """None when a typed text query can be tried for this model, else why not (one line)."""
    if "text" not in record.get("modalities", []):
        return f"model {record['name']!r}: has no text modality, so it cannot embed a typed query"
    if importlib.util.find_spec("torch") is None:
        return "typed queries need the ingest extra (pip install 'gapscope[ingest]'), which is not installed"
    try:
        from ingest.models.registry import parse_spec

        parse_spec(model_spec(record)[0])
    except GapscopeError as exc:
        return f"{exc} — this model's text encoder cannot be loaded here; search by item instead"
    except ImportError:
        return "typed queries need the ingest package and its extra (pip install 'gapscope[ingest]')"
    return None
