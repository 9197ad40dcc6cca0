"""Bulk appends of one dataset's items over a write connection kept across consecutive commits, for a bounded time.

Opening the metadata file costs ~15 ms and closing it ~20 ms (DuckDB checkpoints its log at close), so an ingest
that commits a group of items every few tens of milliseconds spends most of its items time opening and closing
(measured: 100k items in 13 commits took 0.71 s with a connection per commit, 0.33 s on one). But DuckDB lets one
process write or many read, and a held connection shuts the dashboard's readers out (they retry for
metadata.LOCK_RETRY_SECONDS). So the appender keeps its connection while commits follow each other, lets it go
after a commit once it has been open HOLD_SECONDS, and then waits TURN_SECONDS before opening it again (a reader
retries every 50 ms, so one waiting gets in); its owner also lets it go before waiting idle (`release`). A reader
waits at most about HOLD_SECONDS plus one commit. Each commit is one transaction (kill -9 loses at most the
uncommitted one); items already present are kept.
"""
from __future__ import annotations

import contextlib
import math
import threading
import time
from pathlib import Path
from typing import Iterator

import duckdb
import pyarrow as pa

from dashboard.errors import GapscopeError
from dashboard.store import metadata, schema

HOLD_SECONDS = 1.0
TURN_SECONDS = 0.12


def insert_items(con: duckdb.DuckDBPyConnection, dataset: str, items: pa.Table) -> int:
    """Insert Arrow items in the table's layout (ITEM_COLUMNS, extra already JSON) on `con`, keeping those already
    present; the number added."""
    if items.column_names != schema.ITEM_COLUMNS:
        raise GapscopeError(f"items: appending items needs the columns {', '.join(schema.ITEM_COLUMNS)}")
    con.register("incoming", items)
    try:
        added = con.execute("INSERT INTO items SELECT ?, i.* FROM incoming i WHERE i.item_id NOT IN "
                            "(SELECT item_id FROM items WHERE dataset = ?)", [dataset, dataset]).fetchall()[0][0]
    finally:
        con.unregister("incoming")
    return int(added)


class ItemAppender:
    """Appends a dataset's items, one transaction per call, on a connection held as the module docstring says."""

    def __init__(self, path: Path, dataset: str, hold: float = HOLD_SECONDS, turn: float = TURN_SECONDS) -> None:
        self.path, self.dataset, self.hold, self.turn = Path(path), dataset, hold, turn
        self.con: duckdb.DuckDBPyConnection | None = None
        self.opened, self.closed = 0.0, -math.inf
        self.lock = threading.Lock()

    def append(self, items: pa.Table) -> int:
        """Add the items in one committed transaction; the number added."""
        with self.transaction() as con:
            return insert_items(con, self.dataset, items)

    def release(self) -> None:
        """Close the held connection, if any, so readers in other processes can open the file."""
        with self.lock:
            self._close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The held connection (opened if needed) in a transaction, committed at the end or rolled back and closed."""
        with self.lock:
            con = self._connection()
            con.begin()
            try:
                yield con
            except BaseException:
                con.rollback()
                self._close()
                raise
            con.commit()
            if time.monotonic() - self.opened >= self.hold:
                self._close()

    def _connection(self) -> duckdb.DuckDBPyConnection:
        """The held connection; a new one no sooner than TURN_SECONDS after the last was closed."""
        if self.con is None:
            time.sleep(max(0.0, self.closed + self.turn - time.monotonic()))
            self.con = metadata.open_connection(self.path, read_only=False)
            self.opened = time.monotonic()
        return self.con

    def _close(self) -> None:
        """Close the connection (caller holds the lock)."""
        if self.con is not None:
            self.con.close()
            self.con, self.closed = None, time.monotonic()

    def __enter__(self) -> "ItemAppender":
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
