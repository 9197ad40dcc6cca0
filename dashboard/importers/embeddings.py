"""Import precomputed embeddings (.npy / .npz / Parquet) with a metadata table (CSV / Parquet) into a store.

Vectors: `image=img.npy` style pairs (one array per modality), an .npz whose arrays are named after the
modalities (plus an optional `item_id` array), or a Parquet file with an `item_id` column and one list column
per modality. Metadata: one row per item in the same order (or keyed by `item_id`), any columns.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from dashboard.errors import GapscopeError
from dashboard.store import Store
from dashboard.store.rollback import all_or_nothing
from dashboard.store.validate import check_vectors
from dashboard.store.vectors import table_name


def _load_array(path: Path) -> np.ndarray:
    """One 2-D array from an .npy file."""
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise GapscopeError(f"{path}: not a readable .npy file ({exc})".splitlines()[0]) from exc
    if array.ndim != 2:
        raise GapscopeError(f"{path}: expected a 2-D array (items x dimension), got shape {array.shape}")
    return array


def _load_npz(path: Path, modalities: list[str] | None) -> tuple[dict[str, np.ndarray], list[str] | None]:
    """Arrays per modality (and item ids if stored) from an .npz file."""
    with np.load(path, allow_pickle=False) as archive:
        names = [k for k in archive.files if k != "item_id"]
        wanted = modalities or names
        missing = [m for m in wanted if m not in archive.files]
        if missing:
            raise GapscopeError(f"{path}: no array named {missing[0]!r} (has {', '.join(archive.files)})")
        ids = [str(i) for i in archive["item_id"]] if "item_id" in archive.files else None
        return {m: np.asarray(archive[m]) for m in wanted}, ids


def _load_parquet(path: Path, modalities: list[str] | None) -> tuple[dict[str, np.ndarray], list[str] | None]:
    """List columns per modality (and item ids) from a Parquet file."""
    frame = pd.read_parquet(path)
    wanted = modalities or [c for c in frame.columns if c != "item_id"]
    missing = [m for m in wanted if m not in frame.columns]
    if missing:
        raise GapscopeError(f"{path}: no column named {missing[0]!r} (has {', '.join(frame.columns)})")
    ids = frame["item_id"].astype(str).tolist() if "item_id" in frame.columns else None
    try:
        return {m: np.stack(frame[m].to_numpy()).astype(np.float32) for m in wanted}, ids
    except ValueError as exc:
        raise GapscopeError(f"{path}: vectors of unequal length ({exc})".splitlines()[0]) from exc


def load_vectors(specs: list[str], modalities: list[str] | None) -> tuple[dict[str, np.ndarray], list[str] | None]:
    """Vectors per modality from `modality=file.npy` pairs, or one .npz / .parquet file."""
    if len(specs) == 1 and "=" not in specs[0]:
        path = Path(specs[0])
        if not path.is_file():
            raise GapscopeError(f"{path}: no such file")
        if path.suffix == ".npz":
            return _load_npz(path, modalities)
        if path.suffix in (".parquet", ".pq"):
            return _load_parquet(path, modalities)
        raise GapscopeError(f"{path}: give `modality=file.npy` pairs, or one .npz or .parquet file")
    vectors = {}
    for spec in specs:
        modality, sep, file = spec.partition("=")
        if not sep or not Path(file).is_file():
            raise GapscopeError(f"{spec}: expected modality=path/to/file.npy with an existing file")
        vectors[modality] = _load_array(Path(file))
    return vectors, None


def load_metadata(path: str | Path | None, n: int) -> pd.DataFrame:
    """The metadata table (or bare item ids 0..n-1), with as many rows as there are vectors."""
    if path is None:
        return pd.DataFrame({"item_id": [str(i) for i in range(n)]})
    path = Path(path)
    if not path.is_file():
        raise GapscopeError(f"{path}: no such file")
    frame = pd.read_parquet(path) if path.suffix in (".parquet", ".pq") else pd.read_csv(path)
    if len(frame) != n:
        raise GapscopeError(f"{path}: {len(frame)} rows but the vectors have {n}")
    if "item_id" not in frame.columns:
        frame.insert(0, "item_id", [str(i) for i in range(n)])
    return frame


def import_embeddings(store_path: str | Path, dataset: str, model: str, vectors: list[str], metadata: str | None = None,
                      modalities: list[str] | None = None, logit_scale: float = 1.0) -> dict:
    """Check, then write one model's embeddings of one dataset; returns a summary."""
    arrays, ids = load_vectors(vectors, modalities)
    counts = {m: a.shape[0] for m, a in arrays.items()}
    if len(set(counts.values())) != 1:
        raise GapscopeError(f"{', '.join(vectors)}: row counts differ between modalities ({counts})")
    dims = {m: a.shape[1] for m, a in arrays.items()}
    if len(set(dims.values())) != 1:
        raise GapscopeError(f"{', '.join(vectors)}: dimensions differ between modalities ({dims})")
    n, dim = next(iter(counts.values())), next(iter(dims.values()))
    items = load_metadata(metadata, n)
    ids = ids or items["item_id"].astype(str).tolist()
    for modality, array in arrays.items():
        check_vectors(f"{modality} vectors", ids, array, dim)
    if not np.isfinite(logit_scale) or logit_scale <= 0:
        raise GapscopeError(f"--logit-scale: must be a positive finite number, got {logit_scale}")
    store = Store.create(store_path)
    _check_fits(store, model, dim, logit_scale)
    _check_unchanged(store, dataset, model, ids, arrays)
    with all_or_nothing(store.path, [table_name(dataset, model)]):
        store.add_dataset(dataset, list(arrays), kind="embeddings", source=metadata or "")
        added = store.add_items(dataset, items.assign(item_id=ids))
        store.add_model(model, list(arrays), dim, logit_scale, family="precomputed", source=", ".join(vectors))
        for modality, array in arrays.items():
            store.add_embeddings(dataset, model, modality, ids, array)
    return {"dataset": dataset, "model": model, "items_added": added, "modalities": list(arrays), "dim": dim}


def _check_fits(store: Store, model: str, dim: int, logit_scale: float) -> None:
    """Refuse, before any write, vectors whose dimension, or a logit scale or family, differs from the model's in
    the store (the dataset's modalities are checked by `add_dataset`, the first write)."""
    known = store.models()
    found = known[known["name"] == model]
    if not found.empty and int(found["dim"].iloc[0]) not in (0, dim):
        raise GapscopeError(f"model {model!r}: has dimension {int(found['dim'].iloc[0])} in the store, the vectors have {dim}")
    if not found.empty and (found["family"].iloc[0] != "precomputed"
                            or not np.isclose(found["logit_scale"].iloc[0], logit_scale, rtol=1e-12, atol=0)):
        raise GapscopeError(f"model {model!r}: already in the store as a {found['family'].iloc[0] or 'model'} with logit "
                            f"scale {found['logit_scale'].iloc[0]:g}; import under another --model name")


def _check_unchanged(store: Store, dataset: str, model: str, ids: list[str], arrays: dict[str, np.ndarray]) -> None:
    """Refuse vectors that differ from those already stored for the same items (they would be silently kept)."""
    stored = store.embedded_ids(dataset, model)
    for modality, array in arrays.items():
        if not stored.get(modality, set()) & set(ids):
            continue
        old_ids, old = store.embeddings(dataset, model, modality)
        position = {item: k for k, item in enumerate(ids)}
        common = [k for k, item in enumerate(old_ids) if item in position]
        new = np.asarray(array, dtype=np.float32)[[position[old_ids[k]] for k in common]]
        worst = float(np.abs(old[common].astype(np.float32) - new).max())
        if worst > 1e-6:
            raise GapscopeError(f"dataset {dataset!r}, model {model!r}: {modality} vectors already stored differ from "
                                f"the new ones (max |delta| = {worst:.3g}); import under another --model or --dataset")
