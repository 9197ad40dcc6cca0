"""Waiting for Streamlit in the browser and reading what it shows."""
from __future__ import annotations

import time

from playwright.sync_api import Page

N_ITEMS = 40
BIG_ITEMS = 20_000
PAGES = {"overview": "", "explore": "explore", "gap": "gap", "compare": "compare",
         "augmentations": "augmentations", "sql": "sql", "search": "search"}
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
