"""One dataset's metadata as a read-only DuckDB file in a private folder, queried through sandboxed workers.

The store's own DuckDB file is only ever read (through dashboard.store). Its tables (items, models, datasets and,
on first use, pairs) are copied into `data-N.duckdb` in a private temporary folder (mode 0700) that the workers
attach READ_ONLY, so no statement, CTE or not, can change what the next query or another session sees: writing
needs a read-write attachment, which a worker never has. This is the lock chosen over a parse-tree check alone
(dashboard.sql.tree is the second lock) because it holds for statement kinds a parser check has not met.
"""
from __future__ import annotations

import shutil
import tempfile
import threading
import weakref
from collections import OrderedDict
from pathlib import Path
from typing import Callable

import duckdb
import pandas as pd
import pyarrow as pa

from dashboard.errors import GapscopeError
from dashboard.sql import figures, tables
from dashboard.sql.sandbox import Pool
from dashboard.store import Store
from dashboard.store.schema import META_FILE, VECTOR_DIR

CACHE_SIZE = 4
VIEW_ORDER = ["items", "pairs", "models", "datasets"]


def write_tables(path: Path, frames: dict[str, pd.DataFrame], copy_from: Path | None = None) -> dict[str, list[str]]:
    """Write the frames (and every table of copy_from) as tables of a new DuckDB file; their columns by table."""
    con = duckdb.connect(str(path), config={"threads": 1, "python_enable_replacements": False})
    try:
        if copy_from is not None:
            con.execute(f"ATTACH '{copy_from}' AS previous (READ_ONLY)")
            for (name,) in con.execute("SELECT table_name FROM information_schema.tables "
                                       "WHERE table_catalog = 'previous'").fetchall():
                con.execute(f'CREATE TABLE main."{name}" AS SELECT * FROM previous.main."{name}"')
            con.execute("DETACH previous")
        for name, frame in frames.items():
            con.register("_incoming", frame)
            con.execute(f'CREATE TABLE main."{name}" AS SELECT * FROM _incoming')
            con.unregister("_incoming")
        rows = con.execute("SELECT table_name, column_name FROM information_schema.columns WHERE table_catalog = "
                           "current_database() ORDER BY table_name, ordinal_position").fetchall()
    finally:
        con.close()
    columns: dict[str, list[str]] = {}
    for table, column in rows:
        columns.setdefault(table, []).append(column)
    return columns


class SqlDatabase:
    """One dataset of one store as a read-only DuckDB file; the pairs table is added on first use."""

    def __init__(self, store_path: str, dataset: str) -> None:
        self.store = Store.open(store_path, read_only=True)
        self.dataset = dataset
        self.modalities = self.store.dataset(dataset)["modalities"]
        self.models = tables.embedded_models(self.store, dataset)
        self.folder = Path(tempfile.mkdtemp(prefix="gapscope-sql-"))
        self.pool = Pool(str(self.folder))
        self._finalizer = weakref.finalize(self, _remove, self.pool, self.folder)
        self._lock = threading.Lock()
        self.file = self.folder / "data-0.duckdb"
        self.columns = write_tables(self.file, {"items": tables.items_table(self.store, dataset),
                                                "models": tables.models_table(self.store, dataset, self.models),
                                                "datasets": tables.datasets_table(self.store)})
        self.pool.prestart(*self._worker_files())

    @property
    def pairs_loaded(self) -> bool:
        """Whether the pairs table has been computed."""
        return "pairs" in self.columns

    def views(self) -> dict[str, list[str]]:
        """The offered views and their columns (the pairs view's columns even before it is filled)."""
        out = dict(self.columns)
        out.setdefault("pairs", figures.pair_columns(self.modalities))
        return {name: out[name] for name in VIEW_ORDER if name in out}

    def ensure_pairs(self) -> None:
        """Compute the per-pair figures of every model and add them as the table `pairs` (once)."""
        with self._lock:
            if self.pairs_loaded:
                return
            frame = figures.all_figures(self.store, self.dataset, self.models, self.modalities)
            new = self.folder / "data-1.duckdb"
            self.columns = write_tables(new, {"pairs": frame}, copy_from=self.file)
            self.file = new

    def _worker_files(self) -> tuple[dict[str, str], dict[str, str]]:
        """The data file a worker attaches and the views it offers."""
        return {"data": str(self.file)}, {name: "data" for name in self.columns}

    def ask(self, request: dict, timeout_s: float) -> tuple[dict, pa.Table | None]:
        """Run one worker request over the current data file under the time limit."""
        return self.pool.ask(*self._worker_files(), request, timeout_s)

    def close(self) -> None:
        """End the workers and remove the private folder."""
        self._finalizer()


def _remove(pool: Pool, folder: Path) -> None:
    """End a database's workers and delete its private folder."""
    pool.close()
    shutil.rmtree(folder, ignore_errors=True)


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
                self._items.popitem(last=False)[1].close()
        return database


_CACHE = _Cache(CACHE_SIZE, SqlDatabase)


def database(store_path: str, dataset: str) -> SqlDatabase:
    """The (cached) SQL database of one dataset of a store; a failure to load it is a one-line error."""
    try:
        return _CACHE.get(str(store_path), dataset)
    except duckdb.Error as exc:
        message = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise GapscopeError(f"SQL: cannot load dataset {dataset!r} of {store_path} ({message})") from exc
