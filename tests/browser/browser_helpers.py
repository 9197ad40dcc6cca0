"""Waiting for Streamlit in the browser and reading what it shows."""
from __future__ import annotations

import contextlib
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Iterator

from playwright.sync_api import Page

N_ITEMS = 40
BIG_ITEMS = 20_000
PAGES = {"overview": "", "explore": "explore", "gap": "gap", "compare": "compare",
         "augmentations": "augmentations", "sql": "sql", "search": "search"}
START_TIMEOUT_S = 90
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'


def settle(page: Page, timeout_s: float = 90, quiet_s: float = 1.0) -> None:
    """Wait until the script has finished running and stayed finished for `quiet_s` seconds."""
    deadline = time.monotonic() + timeout_s
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_s * 1000)
    quiet_since = None
    while time.monotonic() < deadline:
        idle = page.locator(IDLE).count() == 1 and page.locator('[data-testid="stStatusWidget"] :text("Running")').count() == 0
        if idle:
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since >= quiet_s:
                return
        else:
            quiet_since = None
        time.sleep(0.2)
    raise AssertionError(f"{page.url}: the script was still running after {timeout_s} s")


def open_page(page: Page, base: str, name: str, query: str = "") -> None:
    """Load one dashboard page (with an optional query string) and wait for it to settle."""
    page.goto(f"{base}/{PAGES[name]}{'?' + query if query else ''}")
    settle(page)


def exceptions(page: Page) -> list[str]:
    """Texts of the exception boxes Streamlit shows."""
    return page.locator('[data-testid="stException"]').all_inner_texts()


def metric(page: Page, label: str) -> str:
    """The value of the st.metric with this label."""
    box = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return box.locator('[data-testid="stMetricValue"]').inner_text().strip()


def type_query(page, sql: str) -> None:
    """Type a query into the SQL page's editor and commit it (Ctrl+Enter)."""
    editor = page.get_by_label("Query", exact=True)
    editor.fill(sql)
    editor.press("Control+Enter")
    settle(page)


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(url: str, process: subprocess.Popen, log: Path, timeout_s: float = START_TIMEOUT_S) -> None:
    """Block until Streamlit answers its health check; fail with the server log if it exits or never does."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                if answer.read().strip() == b"ok":
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"streamlit did not answer within {timeout_s} s:\n{log.read_text()[-3000:]}")


@contextlib.contextmanager
def served(command: list[str], cwd: Path, env: dict[str, str], port: int, log: Path,
           timeout_s: float = START_TIMEOUT_S) -> Iterator[str]:
    """Run a dashboard server until the block ends (stopped by its process id); yields its base URL."""
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process, log, timeout_s)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
