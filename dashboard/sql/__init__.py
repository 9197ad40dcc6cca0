"""DuckDB SQL over read-only views of a store's metadata: items, pairs (per-model pair figures), models, datasets."""
from dashboard.sql.examples import example_queries
from dashboard.sql.query import run_query, subset_ids, views

__all__ = ["example_queries", "run_query", "subset_ids", "views"]
