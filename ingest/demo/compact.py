"""Compact a freshly built store (no readers yet) for git: LanceDB tables without old versions, and the DuckDB file
rewritten without the free blocks that overwritten artefacts leave behind (DuckDB never shrinks a file)."""
from __future__ import annotations

import datetime
import os
import warnings

from dashboard.store import Store


def compact_store(store: Store) -> None:
    """Compact the LanceDB tables and rewrite meta.duckdb; the store must have no readers."""
    import lancedb

    db = lancedb.connect(str(store.path / "vectors"))
    listed = db.list_tables()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="optimize\\(cleanup_older_than=0\\)")
        for table_name in getattr(listed, "tables", listed):
            db.open_table(table_name).optimize(cleanup_older_than=datetime.timedelta(0), delete_unverified=True)
    _rewrite_duckdb(store.path / "meta.duckdb")


def _rewrite_duckdb(path: os.PathLike) -> None:
    """Copy every table of a DuckDB file into a fresh file and swap it in."""
    import duckdb

    fresh = f"{path}.compact"
    if os.path.exists(fresh):
        os.remove(fresh)
    con = duckdb.connect(fresh)
    try:
        con.execute("ATTACH ? AS src (READ_ONLY)", [str(path)])
        database = con.execute("SELECT current_database()").fetchone()[0]
        con.execute(f'COPY FROM DATABASE src TO "{database}"')
    finally:
        con.close()
    os.replace(fresh, path)
