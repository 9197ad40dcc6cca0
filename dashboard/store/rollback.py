"""All-or-nothing writes spanning the metadata file and some vector tables: restore the bytes on any failure.

The metadata file (DuckDB) and the LanceDB tables cannot share one transaction, so `all_or_nothing` copies
meta.duckdb and the named tables' folders aside first; if the block raises, the copies are put back byte for
byte and tables the block created are deleted. On success the copies are removed. One writer at a time is
assumed (as for every ingest).
"""
from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

from dashboard.store import schema
from dashboard.store.vectors import table_name

META_FILES = (schema.META_FILE, f"{schema.META_FILE}.wal")


def _table_folder(root: Path, name: str) -> Path:
    """The folder LanceDB keeps a table in."""
    return root / schema.VECTOR_DIR / f"{name}.lance"


def table_names(dataset: str, models: list[str]) -> list[str]:
    """The vector tables of a dataset embedded by these models."""
    return [table_name(dataset, model) for model in models]


def _restore(root: Path, backup: Path, tables: list[str]) -> None:
    """Put the saved metadata files and table folders back; delete those that did not exist."""
    for name in META_FILES:
        (root / name).unlink(missing_ok=True)
        if (backup / name).exists():
            shutil.copy2(backup / name, root / name)
    for name in tables:
        target, saved = _table_folder(root, name), backup / f"{name}.lance"
        shutil.rmtree(target, ignore_errors=True)
        if saved.exists():
            shutil.copytree(saved, target, symlinks=True)


@contextlib.contextmanager
def all_or_nothing(root: str | Path, tables: list[str]) -> Iterator[None]:
    """Run a block of writes to the store at root (touching at most these vector tables) as all or nothing."""
    root = Path(root)
    with tempfile.TemporaryDirectory(prefix="gapscope-rollback-") as folder:
        backup = Path(folder)
        for name in META_FILES:
            if (root / name).exists():
                shutil.copy2(root / name, backup / name)
        for name in tables:
            if _table_folder(root, name).exists():
                shutil.copytree(_table_folder(root, name), backup / f"{name}.lance", symlinks=True)
        try:
            yield
        except BaseException:
            _restore(root, backup, tables)
            raise
