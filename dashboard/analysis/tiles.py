"""Tiles of an N x N product and their work in worker threads, results in a fixed order.

A pass over all N^2 pairs (pairwise.scan) is cut into tiles of at most `rows` rows and `entries` values, visited
row block by row block, columns left to right. Each tile's float32 product and its element-wise passes (ranks,
exp) stay in the CPU cache. With more than one core the tiles are computed by worker threads (numpy and BLAS
release the GIL) with BLAS single-threaded (threadpoolctl), so the element-wise work uses every core, not only the
product; results are handed back in tile order, so whatever is folded from them is the same for any number of
threads.
"""
from __future__ import annotations

import os
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Callable, Iterator, TypeVar

from threadpoolctl import threadpool_limits

Tile = tuple[int, int, int, int]  # row start, row stop, column start, column stop
R = TypeVar("R")
MAX_WORKERS = 8
AHEAD = 4  # tiles queued per worker
PARALLEL_ENTRIES = 1 << 22  # threads only for products of at least this many values


def grid(n: int, rows: int, entries: int) -> list[Tile]:
    """The tiles of an n x n product: row blocks of `rows` rows, each cut into runs of columns."""
    rows = max(1, min(rows, n))
    columns = max(1, min(n, entries // rows))
    return [(r, min(r + rows, n), c, min(c + columns, n)) for r in range(0, n, rows) for c in range(0, n, columns)]


def workers(n: int) -> int:
    """Threads for an n x n pass: every core (up to MAX_WORKERS) for large n, else 1."""
    return min(os.cpu_count() or 1, MAX_WORKERS) if n * n >= PARALLEL_ENTRIES else 1


class _SingleThreadedBlas:
    """BLAS limited to one thread while any pass runs its own threads (counted, so concurrent passes in other
    threads, e.g. two dashboard sessions, restore the original limit only when the last one ends)."""

    def __init__(self) -> None:
        self._lock, self._users, self._limiter = threading.Lock(), 0, None

    @contextmanager
    def held(self) -> Iterator[None]:
        """Single-threaded BLAS inside the block."""
        with self._lock:
            if self._users == 0:
                self._limiter = threadpool_limits(1, user_api="blas")
            self._users += 1
        try:
            yield
        finally:
            with self._lock:
                self._users -= 1
                if self._users == 0:
                    self._limiter.restore_original_limits()


_BLAS = _SingleThreadedBlas()


def ordered(work: Callable[[Tile], R], tiles: list[Tile], threads: int) -> Iterator[tuple[Tile, R]]:
    """(tile, work(tile)) in tile order, computed by `threads` threads (BLAS single-threaded while they run)."""
    if threads <= 1:
        yield from ((tile, work(tile)) for tile in tiles)
        return
    with _BLAS.held(), ThreadPoolExecutor(threads) as pool:
        pending: deque = deque()
        for tile in tiles:
            pending.append((tile, pool.submit(work, tile)))
            if len(pending) >= AHEAD * threads:
                done, future = pending.popleft()
                yield done, future.result()
        while pending:
            done, future = pending.popleft()
            yield done, future.result()
