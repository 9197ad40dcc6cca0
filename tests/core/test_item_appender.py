"""The ingest's items appender: one connection kept across commits for a bounded time, readers in other processes
still getting in while commits keep coming, and a failed commit leaving the store as it was."""
from __future__ import annotations

import subprocess
import sys
import threading
import time

import numpy as np
import pyarrow as pa
import pytest

from dashboard.errors import GapscopeError
from dashboard.store import Store
from ingest.base import Record
from ingest.writer import items_table

GROUP = 50

READER = """
import sys, time, duckdb
deadline = time.monotonic() + float(sys.argv[2])
while True:
    try:
        con = duckdb.connect(sys.argv[1], read_only=True)
        break
    except duckdb.Error:
        if time.monotonic() > deadline:
            print("never got in"); sys.exit(1)
        time.sleep(0.05)
print(con.execute("SELECT count(*) FROM items").fetchall()[0][0])
"""


def group(start: int) -> pa.Table:
    """GROUP items from ordinal `start` as the writer builds them."""
    records = [Record(f"i{k}", text=f"t{k}") for k in range(start + GROUP)]
    return items_table(records, np.arange(start, start + GROUP), [None] * GROUP)


def test_the_connection_is_kept_across_commits_and_let_go_after_the_hold(tmp_path):
    store = Store.create(tmp_path / "s")
    with store.registration("d") as held:
        store.add_dataset("d", ["text"])
    with held:
        first = held.con
        assert held.append(group(0)) == GROUP and held.con is first and first is not None
        assert held.append(group(GROUP)) == GROUP and held.con is first
        held.hold = 0.0
        held.append(group(2 * GROUP))
        assert held.con is None
    assert len(store.items("d")) == 3 * GROUP


def test_a_reader_in_another_process_gets_in_while_commits_keep_coming(tmp_path):
    store = Store.create(tmp_path / "s")
    with store.registration("d") as held:
        store.add_dataset("d", ["text"])
    stop, commits = threading.Event(), []
    held.hold = 0.3

    def keep_committing() -> None:
        while not stop.is_set():
            held.append(group(len(commits) * GROUP))
            commits.append(1)

    writer = threading.Thread(target=keep_committing)
    writer.start()
    try:
        time.sleep(0.5)
        started = time.monotonic()
        read = subprocess.run([sys.executable, "-c", READER, str(store.path / "meta.duckdb"), "5"],
                              capture_output=True, text=True, timeout=60)
        waited = time.monotonic() - started
    finally:
        stop.set()
        writer.join()
        held.release()
    assert read.returncode == 0, read.stdout + read.stderr
    assert int(read.stdout) % GROUP == 0 and 0 < int(read.stdout) <= len(commits) * GROUP
    assert len(commits) > 3 and waited < 5


def test_a_failed_commit_rolls_back_and_lets_the_file_go(tmp_path):
    store = Store.create(tmp_path / "s")
    with store.registration("d") as held:
        store.add_dataset("d", ["text"])
    held.append(group(0))
    with pytest.raises(GapscopeError, match="needs the columns"):
        held.append(group(GROUP).drop_columns(["extra"]))
    assert held.con is None
    assert held.append(group(GROUP)) == GROUP and held.append(group(0)) == 0
    held.release()
    assert store.items("d")["ordinal"].tolist() == list(range(2 * GROUP))


def test_a_read_only_store_has_no_registration(tmp_path):
    Store.create(tmp_path / "s").add_dataset("d", ["text"])
    with pytest.raises(GapscopeError, match="read-only"), Store.open(tmp_path / "s").registration("d"):
        pass
