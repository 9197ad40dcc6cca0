"""Worker processes that run users' SQL (dashboard.sql.worker), each killed when a query passes its time limit.

A query runs in a separate process so that neither its time nor its memory can reach the dashboard server: the
server waits at most the time limit for the whole answer (running, fetching, id extraction and transfer), then
kills the worker; the worker's address space is capped (RLIMIT_AS), so a list or string function that DuckDB's own
memory_limit does not count fails there, not here. At most MAX_WORKERS run at once in one server process, and each database keeps one idle worker.
"""
from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyarrow as pa

from dashboard.errors import GapscopeError
from dashboard.sql.worker import HEADER

WORKER = Path(__file__).with_name("worker.py")
MAX_WORKERS = 4
HEADROOM_MB = 1024
MEMORY_LIMIT = "256MB"
MAX_RESULT_BYTES = 128 * 2**20
START_TIMEOUT_S = 60.0
SLOTS = threading.BoundedSemaphore(MAX_WORKERS)


class WorkerGone(Exception):
    """The worker ended (killed at the time limit, or died) before answering."""

    def __init__(self, timed_out: bool) -> None:
        super().__init__("timed out" if timed_out else "ended")
        self.timed_out = timed_out


class Worker:
    """One worker process serving queries over the given read-only data files."""

    def __init__(self, folder: str, files: dict[str, str], views: dict[str, str]) -> None:
        spec = {"files": files, "views": views, "memory_limit": MEMORY_LIMIT, "headroom_mb": HEADROOM_MB,
                "max_bytes": MAX_RESULT_BYTES}
        env = {"HOME": folder, "TMPDIR": folder, "PATH": os.defpath, "LANG": "C.UTF-8"}
        self.process = subprocess.Popen([sys.executable, "-I", str(WORKER), json.dumps(spec)], cwd=folder, env=env,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        try:
            header = json.loads(self._read(time.monotonic() + START_TIMEOUT_S))
        except WorkerGone as exc:
            raise GapscopeError("SQL: the query worker did not start") from exc
        if not header.get("ready"):
            raise GapscopeError("SQL: the query worker did not start")

    def alive(self) -> bool:
        """Whether the process still runs."""
        return self.process.poll() is None

    def kill(self) -> None:
        """End the process now."""
        if self.alive():
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            stream.close()

    def ask(self, request: dict, timeout_s: float) -> tuple[dict, pa.Table | None]:
        """The reply header and table of one request; the worker is killed if it has not answered in timeout_s."""
        deadline = time.monotonic() + timeout_s
        payload = json.dumps(request).encode()
        try:
            self.process.stdin.write(HEADER.pack(len(payload)) + payload)
            self.process.stdin.flush()
        except OSError as exc:
            self.kill()
            raise WorkerGone(False) from exc
        header = json.loads(self._read(deadline))
        if not header["ok"]:
            return header, None
        with pa.ipc.open_stream(self._read(deadline)) as reader:
            return header, reader.read_all()

    def _read(self, deadline: float) -> bytes:
        """One frame from the worker before the deadline (the worker is killed when it passes or ends early)."""
        head = self._read_exactly(HEADER.size, deadline)
        return self._read_exactly(HEADER.unpack(head)[0], deadline)

    def _read_exactly(self, size: int, deadline: float) -> bytes:
        """size bytes from the worker's stdout, read as they come until the deadline."""
        fd, chunks, got = self.process.stdout.fileno(), [], 0
        while got < size:
            remaining = deadline - time.monotonic()
            ready = select.select([fd], [], [], max(remaining, 0))[0] if remaining > 0 else []
            chunk = os.read(fd, min(size - got, 1 << 20)) if ready else b""
            if not chunk:
                self.kill()
                raise WorkerGone(timed_out=not ready)
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)


class Pool:
    """Idle workers of one database, started on demand; a worker that timed out or died is replaced."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self._idle: list[tuple[tuple, Worker]] = []
        self._lock = threading.Lock()

    def ask(self, files: dict[str, str], views: dict[str, str], request: dict,
            timeout_s: float) -> tuple[dict, pa.Table | None]:
        """Run one request on an idle worker over these files (or a new one)."""
        key = (tuple(sorted(files.items())), tuple(sorted(views.items())))
        with SLOTS:
            worker = self._take(key) or Worker(self.folder, files, views)
            try:
                reply = worker.ask(request, timeout_s)
            except BaseException:
                worker.kill()
                self.prestart(files, views)
                raise
            self._give_back(key, worker)
            return reply

    def prestart(self, files: dict[str, str], views: dict[str, str]) -> None:
        """Start a worker over these files in the background, so the next query need not wait for one."""
        key = (tuple(sorted(files.items())), tuple(sorted(views.items())))

        def start() -> None:
            try:
                self._give_back(key, Worker(self.folder, files, views))
            except GapscopeError:
                pass

        threading.Thread(target=start, daemon=True).start()

    def _take(self, key: tuple) -> Worker | None:
        """An idle live worker over the same files, if any."""
        with self._lock:
            for index, (k, worker) in enumerate(self._idle):
                if k == key and worker.alive():
                    return self._idle.pop(index)[1]
        return None

    def _give_back(self, key: tuple, worker: Worker) -> None:
        """Keep this worker for the next query (one idle worker per database); any other idle one is ended."""
        with self._lock:
            stale = [w for _, w in self._idle]
            self._idle = [(key, worker)]
        for old in stale:
            old.kill()

    def close(self) -> None:
        """End every idle worker."""
        with self._lock:
            idle, self._idle = self._idle, []
        for _, worker in idle:
            worker.kill()
