"""A gapscope store: a folder with LanceDB vectors (`vectors/`) and a DuckDB metadata file (`meta.duckdb`)."""
from dashboard.store.schema import SCHEMA_VERSION
from dashboard.store.store import Store

__all__ = ["SCHEMA_VERSION", "Store"]
