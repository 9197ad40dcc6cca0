"""Running a user's SQL on a dataset's views: checked, then run in a sandboxed worker under a time limit."""
from __future__ import annotations

import math
import os
import re
import tempfile

import pandas as pd
import pyarrow as pa

from dashboard.errors import GapscopeError
from dashboard.sql.database import SqlDatabase, database
from dashboard.sql.guard import first_line, read_statement
from dashboard.sql.sandbox import MAX_RESULT_BYTES, WorkerGone
from dashboard.sql.tree import check_tree

SUBSET_MAX_ROWS = 10_000_000
CONVERSION_ERRORS = (pa.ArrowException, ValueError, OverflowError, TypeError)
PAIRS_REFERENCE = re.compile(r"pairs", re.IGNORECASE)
MESSAGES = {
    "permission": "SQL: file, network and extension access is disabled ({})",
    "memory": "SQL: the query needs more memory than its limit ({})",
    "catalog": "SQL: {} (the views are {views})",
    "error": "SQL: {}",
}


def _scrub(text: str, db: SqlDatabase) -> str:
    """The text without the host's folders (the private data folder, home, working and temporary directories)."""
    for folder in sorted({str(db.folder), os.path.expanduser("~"), os.getcwd(), tempfile.gettempdir()}, key=len,
                         reverse=True):
        if len(folder) > 1:
            text = text.replace(folder, "<hidden>")
    return text


def _explain(header: dict, timeout_s: float, db: SqlDatabase) -> str:
    """A one-line message for a query the worker refused."""
    kind, message = header["kind"], first_line(Exception(_scrub(header["message"], db)))
    if kind == "interrupt":
        return f"SQL: the query was stopped after {timeout_s:g} s (time limit)"
    if kind == "no_item_id":
        return f"SQL: a subset query must return an item_id column (it returns {message})"
    if kind == "too_large":
        return f"SQL: the result is larger than {MAX_RESULT_BYTES // 2**20} MB (select fewer rows or columns)"
    return MESSAGES.get(kind, MESSAGES["error"]).format(message, views=", ".join(db.views()))


def _check_limits(max_rows: int, timeout_s: float) -> None:
    """Refuse a row cap below 1 and a time limit that is not a positive finite number of seconds."""
    if isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 1:
        raise GapscopeError(f"SQL: max_rows ({max_rows}) must be a positive whole number")
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, (int, float)) or not math.isfinite(timeout_s) \
            or timeout_s <= 0:
        raise GapscopeError(f"SQL: timeout_s ({timeout_s}) must be a positive finite number of seconds")


def _execute(store_path: str, dataset: str, sql: str, max_rows: int, timeout_s: float, ids: bool) -> pa.Table:
    """Check the statement and run it in a worker; the table has one row more than the cap if truncated."""
    _check_limits(max_rows, timeout_s)
    statement = read_statement(sql)
    db = database(store_path, dataset)
    check_tree(statement, list(db.views()))
    if PAIRS_REFERENCE.search(statement):
        try:
            db.ensure_pairs()
        except (OSError, ValueError, RuntimeError) as exc:
            raise GapscopeError(f"SQL: cannot load the pairs view of dataset {dataset!r} ({first_line(exc)})") from exc
    try:
        header, table = db.ask({"sql": statement, "max_rows": max_rows, "ids": ids}, timeout_s)
    except WorkerGone as exc:
        if exc.timed_out:
            raise GapscopeError(f"SQL: the query was stopped after {timeout_s:g} s (time limit)") from exc
        raise GapscopeError("SQL: the query needs more memory than its limit (its worker was stopped)") from exc
    if table is None:
        raise GapscopeError(_explain(header, timeout_s, db))
    return table


def _frame(table: pa.Table) -> pd.DataFrame:
    """The result as a DataFrame; a column pandas cannot hold is a one-line error naming it."""
    try:
        return table.to_pandas()
    except CONVERSION_ERRORS as exc:
        bad = next((k for k in range(table.num_columns) if not _converts(table.select([k]))), None)
        what = "result" if bad is None else f"column {table.field(bad).name!r} ({table.field(bad).type})"
        raise GapscopeError(f"SQL: the {what} cannot be shown ({first_line(exc)}); cast it to VARCHAR") from exc


def _converts(table: pa.Table) -> bool:
    """Whether a table converts to pandas."""
    try:
        table.to_pandas()
    except CONVERSION_ERRORS:
        return False
    return True


def run_query(store_path: str, dataset: str, sql: str, max_rows: int = 10_000, timeout_s: float = 5.0) -> pd.DataFrame:
    """The result of a read query on the views items, pairs, models, datasets; at most max_rows rows
    (frame.attrs["truncated"] says whether more were left out)."""
    table = _execute(store_path, dataset, sql, max_rows, timeout_s, ids=False)
    truncated = table.num_rows > max_rows
    frame = _frame(table.slice(0, max_rows))
    frame.attrs["truncated"] = truncated
    frame.attrs["max_rows"] = max_rows
    return frame


def subset_ids(store_path: str, dataset: str, sql: str, timeout_s: float = 5.0) -> list[str]:
    """The distinct item ids a query returns, in its order (the query must return an item_id column)."""
    table = _execute(store_path, dataset, sql, SUBSET_MAX_ROWS, timeout_s, ids=True)
    return table.column("item_id").to_pylist()


def views(store_path: str, dataset: str) -> dict[str, list[str]]:
    """The views a query may read and their columns."""
    return database(store_path, dataset).views()
