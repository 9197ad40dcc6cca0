"""What a read query's parse tree may contain: read nodes only, the offered views, safe functions.

DuckDB's `json_serialize_sql` gives the parse tree of a SELECT. It is walked to refuse (1) any query node other
than SELECT / set operation / CTE / recursive CTE (a DELETE, INSERT or UPDATE inside a CTE is a SELECT statement to
DuckDB's statement type), (2) any table other than the offered views and the query's own CTEs (the system
catalog's views, e.g. duckdb_databases or pg_settings, show host paths and settings), (3) table functions outside
a short list of generators, and (4) functions that report the host, the settings or the version, or that parse,
plan or run other SQL. This is the second lock: the data sit in read-only attached files (dashboard.sql.worker).
"""
from __future__ import annotations

import json
import threading

import duckdb

from dashboard.errors import GapscopeError

READ_NODES = {"SELECT_NODE", "SET_OPERATION_NODE", "RECURSIVE_CTE_NODE", "CTE_NODE"}
TABLE_FUNCTIONS = {"range", "generate_series", "unnest", "repeat", "repeat_row", "json_each", "json_tree"}
DENIED_FUNCTIONS = {
    "current_setting", "version", "getvariable", "current_query", "current_database", "current_catalog",
    "json_serialize_sql", "json_deserialize_sql", "json_serialize_plan", "json_execute_serialized_sql",
    "write_log", "parse_duckdb_log_message", "pg_conf_load_time", "pg_postmaster_start_time", "pg_get_viewdef",
    "txid_current", "current_transaction_id", "current_connection_id", "current_query_id", "pg_sleep",
    "query", "query_table", "getenv", "which_secret", "user_agent", "platform",
}
DENIED_PREFIXES = ("duckdb_", "pragma_", "__internal", "read_", "parquet_", "sniff_")
SCHEMAS = {"", "main", "data"}
CATALOGS = {"", "memory", "data"}
_PARSER = duckdb.connect(":memory:", config={"enable_external_access": False, "threads": 1})
_PARSER_LOCK = threading.Lock()


def parse_tree(sql: str) -> dict:
    """The parse tree of a SELECT statement (a one-line GapscopeError if DuckDB cannot serialise it)."""
    with _PARSER_LOCK:
        text = _PARSER.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()[0]
    tree = json.loads(text)
    if tree.get("error"):
        message = str(tree.get("error_message", "cannot parse the query")).splitlines()[0]
        raise GapscopeError(f"SQL: {message}")
    return tree


def _nodes(tree):
    """Every dict in the tree, depth first."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            yield node
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def _cte_names(tree: dict) -> set[str]:
    """The names the query defines in WITH clauses (lower case)."""
    names = set()
    for node in _nodes(tree):
        cte_map = node.get("cte_map")
        if isinstance(cte_map, dict):
            names |= {str(entry.get("key", "")).lower() for entry in cte_map.get("map", [])}
    return names


def _check_node(node: dict, tables: set[str], views: list[str]) -> None:
    """Refuse one node that writes, reads outside the views or calls a denied function."""
    kind = node.get("type")
    if isinstance(kind, str) and kind.endswith("_NODE") and kind not in READ_NODES:
        raise GapscopeError(f"SQL: only read queries (SELECT) are allowed, not {kind.removesuffix('_QUERY_NODE')} "
                            "inside a query")
    if kind == "SHOW_REF" and node.get("show_type") not in ("DESCRIBE", "SUMMARY"):
        raise GapscopeError(f"SQL: SHOW is not available (the views are {', '.join(views)})")
    if kind == "BASE_TABLE":
        name, schema = str(node.get("table_name", "")), str(node.get("schema_name", "")).lower()
        if name.lower() not in tables or schema not in SCHEMAS or str(node.get("catalog_name", "")).lower() not in CATALOGS:
            raise GapscopeError(f"SQL: Catalog Error: Table with name {name} does not exist! "
                                f"(the views are {', '.join(views)})")
    if kind == "TABLE_FUNCTION":
        function = str(node.get("function", {}).get("function_name", "")).lower()
        if function not in TABLE_FUNCTIONS:
            raise GapscopeError(f"SQL: the table function {function} is not available "
                                f"(only {', '.join(sorted(TABLE_FUNCTIONS))})")
    if node.get("class") == "FUNCTION":
        function = str(node.get("function_name", "")).lower()
        if function in DENIED_FUNCTIONS or function.startswith(DENIED_PREFIXES):
            raise GapscopeError(f"SQL: the function {function} is not available (it reports the host or runs SQL)")


def check_tree(sql: str, views: list[str]) -> None:
    """Refuse a SELECT whose parse tree writes, reads outside the views or calls a denied function."""
    tree = parse_tree(sql)
    tables = {v.lower() for v in views} | _cte_names(tree)
    for node in _nodes(tree):
        _check_node(node, tables, views)
