"""The SQL page in a real browser: a refused query is an inline error (no exception), a good one a result table."""
from __future__ import annotations

import pytest
from browser_helpers import exceptions, open_page, settle, type_query


def _run(page, sql: str) -> None:
    """Type a query and press Run."""
    type_query(page, sql)
    page.get_by_role("button", name="Run").click()
    settle(page)


@pytest.mark.browser
def test_sql_errors_are_inline_and_results_are_tables(server, page, artifacts):
    open_page(page, server, "sql")
    _run(page, "COPY items TO '/tmp/gapscope-browser.csv'")
    alert = page.locator('[data-testid="stAlert"]').filter(has_text="only read queries (SELECT) are allowed, not COPY")
    assert alert.count() == 1 and exceptions(page) == []
    page.screenshot(path=str(artifacts / "sql-refused.png"), full_page=True)
    _run(page, "SELECT * FROM read_csv('/etc/passwd')")
    assert page.locator('[data-testid="stAlert"]').filter(has_text="the table function read_csv is not available").count() == 1
    _run(page, "SELECT model, count(*) AS n FROM pairs GROUP BY model ORDER BY model")
    assert exceptions(page) == [] and page.locator('[data-testid="stDataFrame"]').count() == 1
    assert page.get_by_text("2 rows", exact=True).count() == 1
    page.screenshot(path=str(artifacts / "sql-result.png"), full_page=True)
