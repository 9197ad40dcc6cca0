"""An in-memory DuckDB holding one dataset's metadata as read-only views, locked against any outside access.

The store's own DuckDB file is only ever read (through dashboard.store); users' SQL runs on a separate in-memory
database whose data sit in the schema `data` and are offered as views in `main`. The connection has
external access off (no files, network, ATTACH or COPY), extension loading and installing off, Python
replacement scans off, a memory limit and a locked configuration (no SET/RESET afterwards).
"""
from __future__ import annotations

import re
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Callable

import duckdb
import pandas as pd

from dashboard.errors import GapscopeError
from dashboard.sql import figures, tables
from dashboard.store import Store
from dashboard.store.schema import META_FILE, VECTOR_DIR

CONFIG = {
    "enable_external_access": False,
    "autoload_known_extensions": False,
    "autoinstall_known_extensions": False,
    "allow_community_extensions": False,
    "allow_unsigned_extensions": False,
    "python_enable_replacements": False,
    "memory_limit": "256MB",
    "threads": 1,
}
CACHE_SIZE = 4
PAIRS_REFERENCE = re.compile(r"pairs", re.IGNORECASE)


def _load(con: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame) -> None:
    """Copy a DataFrame into the table data.<name> and offer it as the view main.<name>."""
    con.register("_incoming", frame)
    try:
        con.execute(f'CREATE OR REPLACE TABLE data."{name}" AS SELECT * FROM _incoming')
    finally:
        con.unregister("_incoming")
    con.execute(f'CREATE OR REPLACE VIEW main."{name}" AS SELECT * FROM data."{name}"')


class SqlDatabase:
    """One dataset of one store in a locked in-memory DuckDB; the pairs view is filled on first use."""

    def __init__(self, store_path: str, dataset: str) -> None:
        self.store = Store.open(store_path, read_only=True)
        self.dataset = dataset
        self.modalities = self.store.dataset(dataset)["modalities"]
        self.models = tables.embedded_models(self.store, dataset)
        self._lock = threading.Lock()
        self._pairs_loaded = False
        self._con = duckdb.connect(":memory:", config=dict(CONFIG))
        self._con.execute("CREATE SCHEMA data")
        _load(self._con, "items", tables.items_table(self.store, dataset))
        _load(self._con, "models", tables.models_table(self.store, dataset))
        _load(self._con, "datasets", tables.datasets_table(self.store))
        self._con.execute("SET lock_configuration = true")

    def views(self) -> dict[str, list[str]]:
        """The offered views and their columns (the pairs view's columns even before it is filled)."""
        with self._lock:
            frame = self._con.execute("SELECT table_name, column_name FROM information_schema.columns "
                                      "WHERE table_schema = 'main' ORDER BY table_name, ordinal_position").df()
        out = {name: list(group["column_name"]) for name, group in frame.groupby("table_name", sort=False)}
        out["pairs"] = figures.pair_columns(self.modalities)
        return {name: out[name] for name in ["items", "pairs", "models", "datasets"] if name in out}

    def ensure_pairs(self) -> None:
        """Compute the per-pair figures of every model and offer them as the view `pairs` (once)."""
        with self._lock:
            if self._pairs_loaded:
                return
            frame = figures.all_figures(self.store, self.dataset, self.models, self.modalities)
            _load(self._con, "pairs", frame)
            self._pairs_loaded = True

    def cursor(self, sql: str) -> duckdb.DuckDBPyConnection:
        """A fresh cursor for one query (cursors share the locked database); fills `pairs` if the query names it."""
        if PAIRS_REFERENCE.search(sql):
            self.ensure_pairs()
        with self._lock:
            return self._con.cursor()


def store_signature(store_path: str) -> tuple:
    """Changes whenever the store's metadata or vector tables change, so cached databases are rebuilt."""
    root = Path(store_path)
    meta = root / META_FILE
    if not meta.is_file():
        raise GapscopeError(f"{root}: not a gapscope store (no {META_FILE})")
    stat = meta.stat()
    versions = sorted((p.name, p.stat().st_mtime_ns) for p in (root / VECTOR_DIR).glob("*/_versions"))
    return str(root.resolve()), stat.st_mtime_ns, stat.st_size, tuple(versions)


class _Cache:
    """A small LRU of SqlDatabase objects keyed by store signature and dataset."""

    def __init__(self, size: int, factory: Callable[[str, str], SqlDatabase]) -> None:
        self._size, self._factory = size, factory
        self._items: OrderedDict[tuple, SqlDatabase] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, store_path: str, dataset: str) -> SqlDatabase:
        """The cached database of (store, dataset), built when missing or when the store changed."""
        key = (store_signature(store_path), dataset)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        database = self._factory(store_path, dataset)
        with self._lock:
            self._items[key] = database
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return database


_CACHE = _Cache(CACHE_SIZE, SqlDatabase)


def database(store_path: str, dataset: str) -> SqlDatabase:
    """The (cached) SQL database of one dataset of a store; a failure to load it is a one-line error."""
    try:
        return _CACHE.get(str(store_path), dataset)
    except duckdb.Error as exc:
        message = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise GapscopeError(f"SQL: cannot load dataset {dataset!r} of {store_path} ({message})") from exc
