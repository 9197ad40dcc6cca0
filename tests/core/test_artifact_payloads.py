"""Artefact payloads: large ones in content-addressed files named by their row, small ones inline; files are
deleted only by the sweep, so a rolled-back import finds every file its restored rows name."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dashboard.errors import GapscopeError
from dashboard.store import Store, payloads
from dashboard.store.rollback import all_or_nothing


def _frame(seed: int, rows: int = 20_000) -> pd.DataFrame:
    """A frame whose Parquet is well over INLINE_MAX."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"item_id": [f"i{k}" for k in range(rows)], "x": rng.normal(size=rows)})


def _files(store: Store) -> set[str]:
    """The payload files in the store's folder."""
    folder = store.path / payloads.FOLDER
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


def _formats(store: Store) -> dict[str, str]:
    """The format column of every artefact row by key, as stored."""
    with store._db() as con:
        return dict(con.execute("SELECT key, format FROM artifacts").fetchall())


@pytest.fixture
def store(tmp_path: Path) -> Store:
    opened = Store.create(tmp_path / "s")
    opened.add_dataset("d", ["image", "text"])
    return opened


def test_large_payloads_live_in_files_named_by_their_row_and_small_ones_stay_inline(store: Store) -> None:
    big = _frame(0)
    store.put_frame("d", "m", "projection", "pca:gap", big)
    store.put_json("d", "m", "metrics", "summary", {"gap": 0.5})
    assert _formats(store) == {"pca:gap": "file:parquet", "summary": "json"}
    (name,) = _files(store)
    assert payloads.NAME.fullmatch(name)
    pd.testing.assert_frame_equal(Store.open(store.path).get_frame("d", "m", "projection", "pca:gap"), big)
    assert store.get_json("d", "m", "metrics", "summary") == {"gap": 0.5}
    listed = store.artifacts().set_index("key")["format"].to_dict()
    assert listed == {"pca:gap": "parquet", "summary": "json"}


def test_replaced_and_removed_artefacts_files_go_only_with_the_sweep(store: Store) -> None:
    store.put_frame("d", "m", "projection", "pca:gap", _frame(0))
    first = _files(store)
    store.put_frame("d", "m", "projection", "pca:gap", _frame(1))  # replaced: its old file is kept until the sweep
    assert first < _files(store) and len(_files(store)) == 2
    store.put_frame("d", "m", "projection", "umap:gap", _frame(1))  # the same bytes: the same file
    assert len(_files(store)) == 2
    assert store.sweep_payloads() == 1
    assert len(_files(store)) == 1 and not first & _files(store)
    pd.testing.assert_frame_equal(store.get_frame("d", "m", "projection", "pca:gap"), _frame(1))
    store.remove_dataset("d")
    assert len(_files(store)) == 1
    assert store.sweep_payloads() == 1 and not _files(store)


def test_a_rolled_back_import_reads_the_artefacts_it_replaced(store: Store) -> None:
    store.put_frame("d", "m", "projection", "pca:gap", _frame(0))
    with pytest.raises(RuntimeError, match="import failed"):
        with all_or_nothing(store.path, []):
            store.put_frame("d", "m", "projection", "pca:gap", _frame(1))
            store.remove_dataset("d")
            raise RuntimeError("import failed")
    pd.testing.assert_frame_equal(store.get_frame("d", "m", "projection", "pca:gap"), _frame(0))
    assert store.sweep_payloads() == 1  # the failed import's file
    pd.testing.assert_frame_equal(store.get_frame("d", "m", "projection", "pca:gap"), _frame(0))


def test_a_row_naming_a_missing_or_foreign_file_is_a_one_line_error(store: Store) -> None:
    store.put_frame("d", "m", "projection", "pca:gap", _frame(0))
    (name,) = _files(store)
    (store.path / payloads.FOLDER / name).unlink()
    with pytest.raises(GapscopeError, match=f"artefact payload artifacts/{name} is missing"):
        store.get_frame("d", "m", "projection", "pca:gap")
    with store._db(write=True) as con:
        con.execute("UPDATE artifacts SET payload = ?", [b"../meta.duckdb"])
    with pytest.raises(GapscopeError, match="names '../meta.duckdb', not a payload file"):
        store.get_frame("d", "m", "projection", "pca:gap")
