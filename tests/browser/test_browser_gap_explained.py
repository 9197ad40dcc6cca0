"""The Gap page's gap-explaining sections in a real headless Chromium: every section and figure renders, the
fraction slider and the cluster count come from the URL and moving the slider updates the URL."""
from __future__ import annotations

import pytest
from browser_helpers import PAGES, exceptions, settle

SECTIONS = ("Shift or shape?", "Where the gap lives", "Ways to close the gap", "Joint clustering", "Temperature")
TITLES = ("Is the gap a shift", "Removing the top-k", "k-means on images and texts together, k = 3",
          "logit scale sits")


@pytest.mark.browser
def test_gap_sections_render_from_the_url_and_the_slider_moves(server, page, artifacts):
    page.goto(f"{server}/{PAGES['gap']}?gf=0.25&gk=3")
    settle(page, timeout_s=300)  # the longest page: every section of the Gap page
    assert exceptions(page) == []
    for heading in SECTIONS:
        assert page.get_by_role("heading", name=heading).count() == 1, heading
    for words in TITLES:
        title = page.locator(".js-plotly-plot .gtitle").filter(has_text=words).first
        title.wait_for(state="attached", timeout=60_000)
        assert words in title.text_content()
    slider = page.get_by_role("slider", name="Mean shift: fraction of the gap closed")
    assert slider.input_value() == "0.25"
    slider.focus()
    slider.press("ArrowRight")
    page.wait_for_url("**gf=0.3**", timeout=120_000)
    settle(page, timeout_s=300)
    assert slider.input_value() == "0.3" and exceptions(page) == []
    page.get_by_role("heading", name="Ways to close the gap").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "gap-explained.png"), full_page=True)
