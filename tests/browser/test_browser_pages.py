"""Every page renders in a real headless Chromium without an exception; screenshots go to tests/artifacts/."""
from __future__ import annotations

from pathlib import Path

import pytest
from browser_helpers import PAGES, exceptions, open_page

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.browser
@pytest.mark.parametrize("name", list(PAGES))
def test_page_renders_without_exception(server, page, artifacts, name):
    assert (REPO / "pages" / f"{name}.py").is_file(), f"pages/{name}.py is missing"
    open_page(page, server, name)
    page.screenshot(path=str(artifacts / f"page-{name}.png"), full_page=True)
    assert exceptions(page) == []
    assert page.locator('[data-testid="stSidebar"]').is_visible()
    assert page.locator("h1").first.inner_text().strip().lower().startswith(name if name != "augmentations" else "augment")
