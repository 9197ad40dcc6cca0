"""Statement checks before a user's SQL runs: valid text, one statement, of the read-only kind (SELECT, FROM, WITH,
DESCRIBE, ...). dashboard.sql.tree then checks what the statement contains; the worker that runs it holds the data
read-only and refuses file, network, extension and configuration access (dashboard.sql.worker).
"""
from __future__ import annotations

import duckdb

from dashboard.errors import GapscopeError

MAX_SQL_CHARS = 100_000


def first_line(exc: BaseException) -> str:
    """The first non-empty line of an exception's message."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def _statement_kind(statement: duckdb.Statement) -> str | None:
    """The statement type's name, or None for a type DuckDB's Python enum does not know (never a SELECT)."""
    try:
        return statement.type.name
    except ValueError:
        return None


def read_statement(sql: str) -> str:
    """The text of the single SELECT statement in `sql`, or a one-line GapscopeError saying why not."""
    if not isinstance(sql, str) or not sql.strip():
        raise GapscopeError("SQL: the query is empty")
    if len(sql) > MAX_SQL_CHARS:
        raise GapscopeError(f"SQL: the query has {len(sql):,} characters, the limit is {MAX_SQL_CHARS:,}")
    bad = next((k for k, ch in enumerate(sql) if 0xD800 <= ord(ch) <= 0xDFFF), None)
    if bad is not None:
        raise GapscopeError(f"SQL: the query has an invalid character at position {bad + 1} (a lone surrogate)")
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise GapscopeError(f"SQL: {first_line(exc)}") from exc
    if not statements:
        raise GapscopeError("SQL: the query has no statement (only comments)")
    if len(statements) > 1:
        raise GapscopeError(f"SQL: one statement at a time, the query has {len(statements)}")
    kind = _statement_kind(statements[0])
    if kind is None:
        raise GapscopeError("SQL: only read queries (SELECT) are allowed")
    if kind != "SELECT":
        raise GapscopeError(f"SQL: only read queries (SELECT) are allowed, not {kind} statements")
    return statements[0].query.strip()
