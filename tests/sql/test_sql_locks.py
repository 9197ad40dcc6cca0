"""Issue 10's attacks on the SQL page: each class is refused in one line and the shared database is unchanged."""
from __future__ import annotations

import hashlib
import math
import os
import resource
import time
from pathlib import Path

import pytest

from dashboard.errors import GapscopeError
from dashboard.sql import run_query, subset_ids
from dashboard.sql.database import database

VIEWS = ["items", "pairs", "models", "datasets"]

WRITES_IN_CTES = [
    "WITH x AS (DELETE FROM data.items RETURNING *) SELECT count(*) FROM x",
    "WITH x AS (UPDATE data.models SET logit_scale = -1 RETURNING *) SELECT * FROM x",
    "WITH x AS (UPDATE data.pairs SET model = 'x' RETURNING *) SELECT * FROM x",
    "WITH x AS (DELETE FROM data.datasets RETURNING *) SELECT * FROM x",
    "WITH x AS (INSERT INTO data.items (item_id) VALUES ('planted') RETURNING *) SELECT * FROM x",
    "SELECT * FROM items WHERE item_id IN (WITH y AS (DELETE FROM data.items RETURNING item_id) SELECT * FROM y)",
]

HOST_DETAILS = [
    "SELECT current_setting('secret_directory')",
    "SELECT current_setting('allowed_directories')",
    "SELECT current_setting('allowed_paths')",
    "SELECT main.current_setting('home_directory')",
    "SELECT 'temp_directory'.current_setting()",
    "SELECT * FROM pragma_user_agent()",
    "SELECT * FROM duckdb_extensions()",
    "SELECT * FROM duckdb_settings()",
    "SELECT * FROM system.main.duckdb_databases()",
    "SELECT version()",
    "SELECT * FROM pragma_version()",
    "SELECT * FROM pg_settings",
    "SELECT * FROM duckdb_databases",
    "SELECT * FROM information_schema.tables",
    "SELECT * FROM pg_catalog.pg_tables",
    "SHOW DATABASES",
    "SHOW ALL TABLES",
    "SELECT json_serialize_sql('SELECT 1')",
    "SELECT * FROM json_execute_serialized_sql(json_serialize_sql('SELECT 1'))",
]


def fingerprint(store_path: str) -> dict[str, str]:
    """A digest of every view's rows and of the data file behind them."""
    out = {}
    for view in VIEWS:
        frame = run_query(store_path, "synthetic", f"SELECT * FROM {view} ORDER BY ALL", max_rows=1_000_000, timeout_s=60)
        out[view] = hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest()
    out["file"] = hashlib.sha256(Path(database(store_path, "synthetic").file).read_bytes()).hexdigest()
    return out


def refused(store_path: str, sql: str, ids: bool = False, timeout_s: float = 5.0) -> str:
    """The one-line message of a refused query (run for rows, or for subset ids)."""
    with pytest.raises(GapscopeError) as info:
        if ids:
            subset_ids(store_path, "synthetic", sql, timeout_s=timeout_s)
        else:
            run_query(store_path, "synthetic", sql, timeout_s=timeout_s)
    message = str(info.value)
    assert "\n" not in message and message.startswith("SQL: "), message
    return message


@pytest.fixture(scope="module")
def before(store_path) -> dict[str, str]:
    """The shared database's fingerprint before any attack."""
    return fingerprint(store_path)


@pytest.mark.parametrize("sql", WRITES_IN_CTES)
def test_writes_inside_queries_are_refused_and_change_nothing(store_path, before, sql):
    assert "only read queries (SELECT) are allowed, not" in refused(store_path, sql)
    assert "only read queries" in refused(store_path, sql, ids=True)
    assert fingerprint(store_path) == before


@pytest.mark.parametrize("sql", WRITES_IN_CTES[:5] + ["INSERT INTO data.items (item_id) VALUES ('x')",
                                                     "DROP TABLE data.items", "DETACH data"])
def test_the_worker_holds_the_data_read_only_without_the_parse_check(store_path, before, sql):
    db = database(store_path, "synthetic")
    db.ensure_pairs()
    header, table = db.ask({"sql": sql, "max_rows": 10, "ids": False}, timeout_s=10)
    assert table is None and header["ok"] is False
    assert "read-only" in header["message"] or "only one read statement" in header["message"], header["message"]
    assert fingerprint(store_path) == before


@pytest.mark.parametrize("sql", ["SELECT * FROM read_csv('/etc/passwd')", "SELECT * FROM glob('/*')",
                                 "ATTACH '/tmp/gapscope_x.db' AS x", "SET enable_external_access = true"])
def test_the_worker_refuses_outside_access_without_the_parse_check(store_path, before, sql):
    header, table = database(store_path, "synthetic").ask({"sql": sql, "max_rows": 10, "ids": False}, timeout_s=10)
    assert table is None and header["kind"] in ("permission", "not_read")
    assert "disabled" in header["message"] or "only one read statement" in header["message"], header["message"]
    assert fingerprint(store_path) == before


@pytest.mark.parametrize("sql", HOST_DETAILS)
def test_host_paths_versions_and_settings_are_not_shown(store_path, before, sql):
    message = refused(store_path, sql)
    for secret in {os.getcwd(), os.path.expanduser("~"), str(database(store_path, "synthetic").folder)}:
        assert secret not in message
    assert "not available" in message or "does not exist" in message, message
    assert fingerprint(store_path) == before


def test_an_error_text_never_shows_the_private_folder(store_path, before):
    folder = str(database(store_path, "synthetic").folder)
    message = refused(store_path, f"SELECT '{folder}'::INTEGER")
    assert folder not in message and "<hidden>" in message
    assert fingerprint(store_path) == before


@pytest.mark.parametrize("timeout", [math.nan, math.inf, -math.inf, 0, -1, "5", True])
def test_time_limits_that_are_not_positive_and_finite_are_refused(store_path, timeout):
    for ids in (False, True):
        assert "must be a positive finite number of seconds" in refused(store_path, "SELECT 1", ids, timeout)


@pytest.mark.parametrize("sql,ids", [
    ("SELECT range::VARCHAR AS item_id FROM range(100000000)", True),
    ("SELECT length(repeat('x', 1000000000)) FROM range(100)", False),
    ("SELECT sum(length(repeat('x', 100000) || range)) FROM range(10000000)", False),
    ("SELECT length(repeat('x', 1000000000))", False),
])
def test_the_time_limit_bounds_running_fetching_and_id_extraction(store_path, before, sql, ids):
    start = time.monotonic()
    message = refused(store_path, sql, ids, timeout_s=1.0)
    assert time.monotonic() - start < 4.0
    assert message == "SQL: the query was stopped after 1 s (time limit)" or "more memory than its limit" in message
    assert fingerprint(store_path) == before


@pytest.mark.parametrize("sql", [
    "SELECT len(range(1000000000))",
    "SELECT list_sort(range(50000000))[1]",
    "SELECT repeat('x', 1000000) FROM range(10001)",
    "SELECT length(repeat('x', 2000000000))",
])
def test_memory_is_bounded_outside_the_server_process(store_path, before, sql):
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert "more memory than its limit" in refused(store_path, sql, timeout_s=30)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before < 300 * 1024  # KiB: under 300 MB
    assert fingerprint(store_path) == before


def test_nothing_spills_into_the_working_directory(store_path, before, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    sql = "SELECT count(*) FROM (SELECT a.range || b.range AS s FROM range(3000) a, range(3000) b ORDER BY s DESC)"
    try:
        run_query(store_path, "synthetic", sql, timeout_s=5)
    except GapscopeError as exc:
        assert "\n" not in str(exc)
    assert list(tmp_path.iterdir()) == []
    folder = database(store_path, "synthetic").folder
    assert sorted(p.name for p in folder.iterdir()) <= ["data-0.duckdb", "data-1.duckdb"]
    assert fingerprint(store_path) == before


@pytest.mark.parametrize("sql", ["SELECT '\ud800'", "SELECT 1 -- \udfff", "SELECT item_id FROM items WHERE text = '\udc80'"])
def test_lone_surrogates_are_one_line_errors(store_path, before, sql):
    assert "(a lone surrogate)" in refused(store_path, sql)
    assert "(a lone surrogate)" in refused(store_path, sql, ids=True)
    assert fingerprint(store_path) == before


def test_after_every_attack_queries_still_work(store_path, before):
    assert run_query(store_path, "synthetic", "SELECT count(*) AS n FROM items")["n"].tolist() == [120]
    assert len(subset_ids(store_path, "synthetic", "SELECT item_id FROM pairs")) == 120
    assert fingerprint(store_path) == before


@pytest.mark.parametrize("sql,needle", [
    ("SELECT union_value(k := 1) AS u", "SQL: the column 'u' (sparse_union<k: int32=0>) cannot be shown"),
    ("SELECT '294247-01-10'::DATE AS d", "SQL: the column 'd' (date32[day]) cannot be shown (year 294247 is out of range)"),
    ("SELECT chr(55296) AS c", "SQL: Invalid Input Error: Invalid UTF8 Codepoint 55296"),
])
def test_results_pandas_cannot_hold_are_one_line_errors(store_path, before, sql, needle):
    assert refused(store_path, sql).startswith(needle)
    assert fingerprint(store_path) == before
