"""Short-lived DuckDB connections to a store's metadata file, so readers and an ingest can take turns."""
from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Iterator

import duckdb

from dashboard.errors import GapscopeError

LOCK_RETRY_SECONDS = 30.0


def _is_lock_error(exc: Exception) -> bool:
    """True when DuckDB refused the file because another process holds it."""
    text = str(exc).lower()
    return "lock" in text or "conflicting" in text or "being used" in text


def _open(path: Path, read_only: bool, deadline: float) -> duckdb.DuckDBPyConnection:
    """Open the file, retrying while another process holds its write lock."""
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only, config={"enable_external_access": "true"})
        except duckdb.Error as exc:
            if not _is_lock_error(exc) or time.monotonic() > deadline:
                raise GapscopeError(f"{path}: cannot open the metadata database ({exc})".splitlines()[0]) from exc
            time.sleep(0.05)


def open_connection(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    """A connection to the file, waiting up to LOCK_RETRY_SECONDS while another process holds its write lock."""
    return _open(path, read_only, time.monotonic() + LOCK_RETRY_SECONDS)


@contextlib.contextmanager
def connect(path: Path, read_only: bool) -> Iterator[duckdb.DuckDBPyConnection]:
    """Yield a connection for one unit of work; writes commit as one transaction or not at all."""
    con = open_connection(path, read_only)
    try:
        if read_only:
            yield con
        else:
            con.begin()
            try:
                yield con
            except BaseException:
                con.rollback()
                raise
            con.commit()
    finally:
        con.close()
