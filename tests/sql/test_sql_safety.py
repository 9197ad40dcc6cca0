"""Every kind of statement other than a read query is refused, and the connection refuses outside access."""
from __future__ import annotations

import time

import pandas as pd
import pytest

from dashboard.errors import GapscopeError
from dashboard.sql import run_query, subset_ids

REFUSED_KINDS = {
    "COPY items TO '/tmp/gapscope_copy.csv'": "COPY",
    "COPY (SELECT 1) TO '/tmp/gapscope_copy.parquet' (FORMAT parquet)": "COPY",
    "ATTACH '/tmp/gapscope_attach.db' AS other": "ATTACH",
    "DETACH data": "DETACH",
    "INSTALL httpfs": "LOAD",
    "LOAD httpfs": "LOAD",
    "SET enable_external_access = true": "SET",
    "RESET lock_configuration": "SET",
    "USE data": "SET",
    "PRAGMA enable_profiling": "PRAGMA",
    "IMPORT DATABASE '/tmp'": "PRAGMA",
    "CREATE TABLE t AS SELECT * FROM items": "CREATE",
    "CREATE VIEW items2 AS SELECT 1": "CREATE",
    "CREATE MACRO m(a) AS a": "CREATE",
    "CREATE SECRET (TYPE s3, KEY_ID 'x', SECRET 'y')": "CREATE",
    "INSERT INTO data.items (item_id) VALUES ('x')": "INSERT",
    "UPDATE data.items SET text = 'x'": "UPDATE",
    "DELETE FROM data.items": "DELETE",
    "DROP VIEW items": "DROP",
    "ALTER TABLE data.items ADD COLUMN z INTEGER": "ALTER",
    "EXPORT DATABASE '/tmp/gapscope_export'": "EXPORT",
    "CALL pragma_version()": "CALL",
    "CHECKPOINT": "CALL",
    "VACUUM": "VACUUM",
    "BEGIN TRANSACTION": "TRANSACTION",
    "PREPARE p AS SELECT 1": "PREPARE",
    "EXECUTE p": "EXECUTE",
    "EXPLAIN SELECT * FROM items": "EXPLAIN",
}

OUTSIDE_ACCESS = [
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_csv_auto('/etc/passwd')",
    "SELECT * FROM read_text('/etc/hostname')",
    "SELECT * FROM read_blob('/etc/hostname')",
    "SELECT * FROM read_json('/etc/passwd')",
    "SELECT * FROM read_parquet('/tmp/any.parquet')",
    "SELECT * FROM glob('/etc/*')",
    "SELECT * FROM sniff_csv('/etc/passwd')",
    "SELECT * FROM read_csv('https://example.com/data.csv')",
    "SELECT * FROM read_parquet('s3://bucket/file.parquet')",
]


def _refused(store_path: str, sql: str) -> str:
    """The one-line message of a refused query."""
    with pytest.raises(GapscopeError) as info:
        run_query(store_path, "synthetic", sql)
    message = str(info.value)
    assert "\n" not in message and message.startswith("SQL: ")
    return message


@pytest.mark.parametrize("sql,kind", list(REFUSED_KINDS.items()))
def test_non_read_statements_are_refused_by_kind(store_path, sql, kind):
    assert _refused(store_path, sql) == f"SQL: only read queries (SELECT) are allowed, not {kind} statements"


def test_statement_kinds_unknown_to_the_python_enum_are_refused(store_path):
    assert _refused(store_path, "UPDATE EXTENSIONS") == "SQL: only read queries (SELECT) are allowed"


@pytest.mark.parametrize("sql", OUTSIDE_ACCESS)
def test_file_and_network_access_is_refused_by_the_parse_tree_check(store_path, sql):
    assert "is not available" in _refused(store_path, sql)


def test_file_paths_as_table_names_are_not_read(store_path):
    assert "Table with name /etc/passwd does not exist" in _refused(store_path, "SELECT * FROM '/etc/passwd'")


def test_query_table_function_cannot_smuggle_other_statements(store_path):
    for sql in ["SELECT * FROM query('CREATE TABLE x AS SELECT 1')", "SELECT * FROM query_table('items')",
                "SELECT * FROM query('SELECT * FROM read_csv(''/etc/passwd'')')"]:
        assert _refused(store_path, sql).startswith("SQL: the table function query")


def test_python_variables_are_not_visible(store_path):
    hidden_frame = pd.DataFrame({"secret": ["leak"]})  # noqa: F841 - DuckDB would find it by name without the lock
    assert "hidden_frame does not exist" in _refused(store_path, "SELECT * FROM hidden_frame")


def test_configuration_cannot_be_read(store_path):
    message = _refused(store_path, "SELECT current_setting('enable_external_access') AS e")
    assert message == "SQL: the function current_setting is not available (it reports the host or runs SQL)"


@pytest.mark.parametrize("sql,expected", [
    ("", "SQL: the query is empty"),
    ("   \n ", "SQL: the query is empty"),
    ("-- a comment only", "SQL: the query has no statement (only comments)"),
    ("SELECT 1; SELECT 2", "SQL: one statement at a time, the query has 2"),
    ("SELECT 1; DROP VIEW items", "SQL: one statement at a time, the query has 2"),
    ("SELEC item_id FROM items", 'SQL: Parser Error: syntax error at or near "SELEC"'),
])
def test_malformed_input(store_path, sql, expected):
    assert _refused(store_path, sql) == expected


def test_overlong_and_deeply_nested_queries_fail_cleanly(store_path):
    assert "the limit is 100,000" in _refused(store_path, "SELECT " + "1+" * 60_000 + "1")
    assert "expression depth" in _refused(store_path, "SELECT " + "(" * 5000 + "1" + ")" * 5000)


def test_unknown_view_names_the_offered_views(store_path):
    message = _refused(store_path, "SELECT * FROM secrets")
    assert "secrets does not exist" in message and "(the views are items, pairs, models, datasets)" in message


def test_a_query_is_stopped_at_the_time_limit_and_the_database_still_works(store_path):
    start = time.monotonic()
    with pytest.raises(GapscopeError, match=r"^SQL: the query was stopped after 0.5 s \(time limit\)$"):
        run_query(store_path, "synthetic", "SELECT count(*) FROM range(1000000000000) a", timeout_s=0.5)
    assert time.monotonic() - start < 5
    assert run_query(store_path, "synthetic", "SELECT count(*) AS n FROM items")["n"].tolist() == [120]


def test_a_huge_cross_join_is_capped_not_materialised(store_path):
    frame = run_query(store_path, "synthetic", "SELECT * FROM range(1000000) a, range(1000000) b", max_rows=50)
    assert len(frame) == 50 and frame.attrs["truncated"] is True


def test_a_query_past_the_memory_limit_fails_cleanly(store_path):
    sql = "SELECT list(a ORDER BY random()) FROM (SELECT repeat('x', 1000) || a AS a FROM range(2000000) r(a))"
    assert _refused_with(store_path, sql, timeout_s=60).startswith("SQL: the query needs more memory than its limit (Out of Memory")


def _refused_with(store_path: str, sql: str, timeout_s: float) -> str:
    """The message of a query refused under a given time limit."""
    with pytest.raises(GapscopeError) as info:
        run_query(store_path, "synthetic", sql, timeout_s=timeout_s)
    return str(info.value)


def test_row_cap(store_path):
    frame = run_query(store_path, "synthetic", "SELECT * FROM range(100000)", max_rows=1000)
    assert len(frame) == 1000 and frame.attrs["truncated"] is True and frame.attrs["max_rows"] == 1000
    frame = run_query(store_path, "synthetic", "SELECT * FROM items", max_rows=120)
    assert len(frame) == 120 and frame.attrs["truncated"] is False


def test_bad_limits_and_bad_stores(store_path, tmp_path):
    with pytest.raises(GapscopeError, match="must be a positive whole number"):
        run_query(store_path, "synthetic", "SELECT 1", max_rows=0)
    with pytest.raises(GapscopeError, match=r"dataset 'nope': not in store .* \(known: synthetic\)"):
        run_query(store_path, "nope", "SELECT 1")
    with pytest.raises(GapscopeError, match="not a gapscope store"):
        run_query(str(tmp_path), "synthetic", "SELECT 1")


HOSTILE = list(REFUSED_KINDS) + OUTSIDE_ACCESS + [
    "SELECT * FROM pairs", "SELECT count(*) FROM range(1000000000000)", "SELECT 1; DROP VIEW items", "UPDATE EXTENSIONS",
]


def test_store_files_are_byte_identical_after_hostile_queries(tmp_path, snapshot):
    from dashboard.synthetic import build_synthetic_store

    path = tmp_path / "store"
    build_synthetic_store(path, n=40, dim=8)
    before = snapshot(path)
    for sql in HOSTILE:
        try:
            run_query(str(path), "synthetic", sql, timeout_s=0.5)
            subset_ids(str(path), "synthetic", sql, timeout_s=0.5)
        except GapscopeError:
            pass
    assert snapshot(path) == before
    assert run_query(str(path), "synthetic", "SELECT count(*) AS n FROM items")["n"].tolist() == [40]
