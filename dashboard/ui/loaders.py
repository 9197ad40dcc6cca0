"""Cached loaders: the store, its tables, embeddings of the subset in view, artefacts and computed results.

Every cached function takes the store path and its `version` (modification times of the metadata file and
the vector folder), so a store changed by an ingest is read again. Embeddings are held once per
(store, dataset, model) with st.cache_resource (no copies); subsets are index views into them.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from dashboard.errors import GapscopeError
from dashboard.store import Store
from dashboard.store.store import Paired

DEFAULT_STORE = "data/demo"
STORE_ROOTS = "GAPSCOPE_STORE_ROOTS"
BY_KEY_SHARE = 0.25  # views of at most this share of a dataset's items read their embeddings by key
REPO_ROOT = Path(__file__).resolve().parents[2]


def store_path(url_value: str | None) -> str:
    """The store folder: the URL's `store`, else $GAPSCOPE_STORE, else data/demo (relative to the repository)."""
    raw = url_value or os.environ.get("GAPSCOPE_STORE") or DEFAULT_STORE
    path = Path(raw).expanduser()
    if not path.is_absolute() and not path.exists() and (REPO_ROOT / path).exists():
        path = REPO_ROOT / path
    return str(path)


def _resolved(path: Path, store: str) -> Path:
    """The real path of a store file; a NUL byte or a symlink loop is a one-line error."""
    if "\0" in str(path):
        raise GapscopeError(f"store {store!r}: the path contains a NUL byte")
    try:
        return path.resolve()
    except (OSError, RuntimeError) as exc:
        raise GapscopeError(f"store {store}: {path.name} cannot be resolved (a symlink loop)") from exc


def _links(root: Path) -> list[Path]:
    """The store's own files (meta.duckdb, vectors/) and every symlink anywhere inside the store folder."""
    found = [root / "meta.duckdb", root / "vectors"]
    for folder, dirs, files in os.walk(root, followlinks=False):
        found += [Path(folder, name) for name in dirs + files if os.path.islink(os.path.join(folder, name))]
    return found


def check_allowed(path: str) -> None:
    """Every file the store reads must resolve inside $GAPSCOPE_STORE_ROOTS (folders, os.pathsep-separated) when
    it is set; a NUL byte or a symlink loop in the store is a one-line error either way."""
    roots = [Path(root).expanduser().resolve() for root in os.environ.get(STORE_ROOTS, "").split(os.pathsep) if root]
    root = _resolved(Path(path), path)
    if roots and not any(root.is_relative_to(r) for r in roots):
        raise GapscopeError(f"store {path}: outside the folders this dashboard serves ({STORE_ROOTS})")
    for entry in _links(Path(path)):
        target = _resolved(entry, path)
        if roots and not any(target.is_relative_to(r) for r in roots):
            raise GapscopeError(f"store {path}: {entry.relative_to(path)} links outside the folders this dashboard "
                                f"serves ({STORE_ROOTS})")


def store_version(path: str) -> float:
    """A number that changes whenever the store is written."""
    root = Path(path)
    stamps = [p.stat().st_mtime for p in (root / "meta.duckdb", root / "vectors") if p.exists()]
    vectors = root / "vectors"
    if vectors.is_dir():
        stamps += [p.stat().st_mtime for p in vectors.iterdir()]
    return max(stamps, default=0.0)


@st.cache_resource(max_entries=8, show_spinner=False)
def open_store(path: str, version: float) -> Store:
    """The store at one version, opened read-only as a snapshot (its dataset and model records read once)."""
    return Store.open(path, read_only=True, snapshot=True)


@st.cache_data(max_entries=16, show_spinner=False)
def datasets(path: str, version: float) -> pd.DataFrame:
    """Datasets with modalities and item counts."""
    return open_store(path, version).datasets()


@st.cache_data(max_entries=16, show_spinner=False)
def coverage(path: str, version: float) -> pd.DataFrame:
    """Which model embedded which dataset (per modality counts)."""
    return open_store(path, version).coverage()


def models_for(path: str, version: float, dataset: str) -> list[str]:
    """Models that embedded `dataset`."""
    frame = coverage(path, version)
    return sorted(frame.loc[frame["dataset"] == dataset, "model"].unique().tolist())


@st.cache_data(max_entries=16, show_spinner=False)
def model_record(path: str, version: float, model: str) -> dict:
    """A model's record (dim, logit scale, modalities)."""
    return open_store(path, version).model(model)


@st.cache_resource(max_entries=16, show_spinner=False)
def items(path: str, version: float, dataset: str) -> pd.DataFrame:
    """A dataset's items without thumbnails: one shared frame (no copy per call, which costs at 100k items), so
    callers derive new frames from it and never modify it."""
    return open_store(path, version).items(dataset)


@st.cache_data(max_entries=64, show_spinner=False)
def thumbnails(path: str, version: float, dataset: str, item_ids: tuple[str, ...]) -> dict[str, bytes]:
    """Thumbnail bytes of some items."""
    return open_store(path, version).thumbnails(dataset, list(item_ids))


@st.cache_resource(max_entries=8, show_spinner="Loading embeddings…")
def paired(path: str, version: float, dataset: str, model: str) -> Paired:
    """All paired embeddings of (dataset, model), L2-normalised per row (every analysis the dashboard runs works on
    unit vectors; holding only the normalised copy keeps one N x d float32 array per modality in memory)."""
    from dashboard.stored_heatmap import normalised_pairs

    return normalised_pairs(open_store(path, version), dataset, model)


@st.cache_resource(max_entries=16, show_spinner=False)
def some_pairs(path: str, version: float, dataset: str, model: str, item_ids: tuple[str, ...]) -> Paired:
    """The normalised embeddings of some items (a metrics sample, or a small view: subset_pairs), read by key: the
    cost of the items, not of the dataset; one shared object, never modified."""
    from dashboard.paired_bootstrap import sample_pairs

    return sample_pairs(open_store(path, version), dataset, model, list(item_ids))


@st.cache_data(max_entries=16, show_spinner=False)
def stored_paired(path: str, version: float, dataset: str, model: str, first: str,
                  item_ids: tuple[str, ...]) -> list[dict] | None:
    """The store's paired-bootstrap rows of `model` against `first` when computed for exactly this sample, or None."""
    from dashboard.paired_bootstrap import stored_paired as read

    return read(open_store(path, version), dataset, model, first, list(item_ids))


@st.cache_resource(max_entries=16, show_spinner=False)
def paired_ids(path: str, version: float, dataset: str, model: str) -> list[str]:
    """The item ids of `paired` (in its order), read without the vectors; one shared list, never modified."""
    return open_store(path, version).paired_ids(dataset, model)


@st.cache_data(max_entries=16, show_spinner=False)
def modalities(path: str, version: float, dataset: str) -> list[str]:
    """A dataset's modalities (the blocks of `paired`, in order)."""
    return list(open_store(path, version).dataset(dataset)["modalities"])


def subset_pairs(path: str, version: float, dataset: str, model: str, item_ids: list[str]) -> Paired:
    """The normalised paired embeddings of the items in `item_ids` (in that order; items the model lacks are left
    out): the cached arrays themselves, not a copy, when `item_ids` is every item in store order; a view of at most
    BY_KEY_SHARE of the items is read by key, by itself (500 of 100k items: 0.06 s and their own memory, against
    2.4 s and 400 MB for all; 20k: 1.4 s), a larger one is taken from the whole read."""
    every = paired_ids(path, version, dataset, model)
    if item_ids == every:
        return paired(path, version, dataset, model)
    if len(item_ids) <= BY_KEY_SHARE * len(every):
        chosen = some_pairs(path, version, dataset, model, tuple(item_ids))
    else:
        full = paired(path, version, dataset, model)
        position = {item: k for k, item in enumerate(full.item_ids)}
        rows = np.array([position[i] for i in item_ids if i in position], dtype=np.int64)
        chosen = Paired([full.item_ids[r] for r in rows], {m: v[rows] for m, v in full.vectors.items()})
    if not chosen.item_ids:
        raise GapscopeError(f"model {model!r}: none of the {len(item_ids)} selected items of {dataset!r} are embedded")
    return chosen


@st.cache_data(max_entries=64, show_spinner=False)
def sql_ids(path: str, version: float, dataset: str, sql: str) -> list[str]:
    """Item ids a SQL query selects (dashboard.sql does the checking)."""
    from dashboard.sql import subset_ids

    return subset_ids(path, dataset, sql)


@st.cache_data(max_entries=64, show_spinner=False)
def subset(path: str, version: float, dataset: str, sql: str, caption: str, sample: int, seed: int) -> list[str]:
    """Item ids in view: SQL subset, then caption filter, then a seeded sample (kept in item order)."""
    frame = items(path, version, dataset)
    ids = frame["item_id"]
    keep = np.ones(len(frame), dtype=bool)
    if sql:
        keep &= ids.isin(set(sql_ids(path, version, dataset, sql))).to_numpy()
    if caption:
        keep &= frame["text"].fillna("").str.contains(caption, case=False, regex=False).to_numpy()
    chosen = np.flatnonzero(keep)
    if sample and len(chosen) > sample:
        chosen = np.sort(np.random.default_rng(seed).choice(chosen, size=sample, replace=False))
    return ids.iloc[chosen].tolist()


@st.cache_data(max_entries=64, show_spinner=False)
def artifact_json(path: str, version: float, dataset: str, model: str, kind: str, key: str):
    """A stored JSON artefact, or None."""
    return open_store(path, version).get_json(dataset, model, kind, key)


@st.cache_resource(max_entries=64, show_spinner=False)
def artifact_frame(path: str, version: float, dataset: str, model: str, kind: str, key: str) -> pd.DataFrame | None:
    """A stored DataFrame artefact, or None (one shared frame: never modified by callers)."""
    return open_store(path, version).get_frame(dataset, model, kind, key)


@st.cache_data(max_entries=64, show_spinner=False)
def item_neighbours(path: str, version: float, dataset: str, model: str, item_id: str, modality: str, k: int,
                    target: str | None) -> pd.DataFrame:
    """dashboard.search.neighbours_of_item, kept for reruns that do not change the query."""
    from dashboard.search import neighbours_of_item

    return neighbours_of_item(path, dataset, model, item_id, modality, k, target)
