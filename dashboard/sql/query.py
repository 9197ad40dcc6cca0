"""Running a user's SQL on a dataset's views: one read statement, a time limit and a row cap."""
from __future__ import annotations

import threading

import duckdb
import pandas as pd

from dashboard.errors import GapscopeError
from dashboard.sql.database import database
from dashboard.sql.guard import first_line, read_statement

SUBSET_MAX_ROWS = 10_000_000


def _explain(exc: duckdb.Error, timeout_s: float, views: list[str]) -> str:
    """A one-line message for a DuckDB error raised by a user's query."""
    if isinstance(exc, duckdb.InterruptException):
        return f"SQL: the query was stopped after {timeout_s:g} s (time limit)"
    if isinstance(exc, duckdb.PermissionException):
        return f"SQL: file, network and extension access is disabled ({first_line(exc)})"
    if isinstance(exc, duckdb.OutOfMemoryException):
        return f"SQL: the query needs more memory than its limit ({first_line(exc)})"
    if isinstance(exc, duckdb.CatalogException):
        return f"SQL: {first_line(exc)} (the views are {', '.join(views)})"
    return f"SQL: {first_line(exc)}"


def _fetch(cursor: duckdb.DuckDBPyConnection, statement: str, max_rows: int) -> pd.DataFrame:
    """Up to max_rows + 1 rows of the statement (streamed, so a huge result is never materialised)."""
    return cursor.sql(statement).limit(max_rows + 1).df()


def _execute(store_path: str, dataset: str, sql: str, max_rows: int, timeout_s: float) -> pd.DataFrame:
    """Run the checked statement under the time limit; the frame has one row more than the cap if truncated."""
    statement = read_statement(sql)
    db = database(store_path, dataset)
    try:
        cursor = db.cursor(statement)
    except duckdb.Error as exc:
        raise GapscopeError(f"SQL: cannot load the pairs view of dataset {dataset!r} ({first_line(exc)})") from exc
    timer = threading.Timer(timeout_s, cursor.interrupt)
    timer.start()
    try:
        return _fetch(cursor, statement, max_rows)
    except duckdb.Error as exc:
        raise GapscopeError(_explain(exc, timeout_s, list(db.views()))) from exc
    finally:
        timer.cancel()
        cursor.close()


def run_query(store_path: str, dataset: str, sql: str, max_rows: int = 10_000, timeout_s: float = 5.0) -> pd.DataFrame:
    """The result of a read query on the views items, pairs, models, datasets; at most max_rows rows
    (frame.attrs["truncated"] says whether more were left out)."""
    if max_rows < 1 or timeout_s <= 0:
        raise GapscopeError(f"SQL: max_rows ({max_rows}) and timeout_s ({timeout_s}) must be positive")
    frame = _execute(store_path, dataset, sql, max_rows, timeout_s)
    truncated = len(frame) > max_rows
    frame = frame.iloc[:max_rows].reset_index(drop=True)
    frame.attrs["truncated"] = truncated
    frame.attrs["max_rows"] = max_rows
    return frame


def subset_ids(store_path: str, dataset: str, sql: str, timeout_s: float = 5.0) -> list[str]:
    """The distinct item ids a query returns, in its order (the query must return an item_id column)."""
    frame = _execute(store_path, dataset, sql, SUBSET_MAX_ROWS, timeout_s)
    if "item_id" not in frame.columns:
        raise GapscopeError(f"SQL: a subset query must return an item_id column (it returns {', '.join(map(str, frame.columns)) or 'none'})")
    ids = frame["item_id"].dropna().astype(str)
    return list(dict.fromkeys(ids))


def views(store_path: str, dataset: str) -> dict[str, list[str]]:
    """The views a query may read and their columns."""
    return database(store_path, dataset).views()
