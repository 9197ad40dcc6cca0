"""Explore in a real browser: the heatmap appears, hovering a cell shows that item, a SQL subset changes the item
count, and a copied URL restores the view."""
from __future__ import annotations

import base64

import pytest
from browser_helpers import N_ITEMS, exceptions, metric, open_page, settle, type_query

HOVER = 'iframe[src*="gapscope_hover"]'
SUBSET_SQL = "SELECT item_id FROM items WHERE ordinal % 3 = 0"


def _component(page):
    """The linked-hover component's frame, once its figures are drawn."""
    frame = page.frame_locator(HOVER).first
    frame.locator('body[data-gs-ready="1"]').wait_for(timeout=60_000)
    frame.locator("#gs-heatmap .heatmaplayer").wait_for(timeout=60_000)
    return frame


def _hover_cell(page, frame, row: int, column: int, side: int) -> None:
    """Move the mouse to the centre of heatmap cell (row, column) of a side x side matrix (row 0 at the top); the
    cells fill the bounding box of the heatmap's drawn image (the plot area around it may be wider or taller)."""
    box = frame.locator("#gs-heatmap .heatmaplayer image").first.bounding_box()
    x = box["x"] + (column + 0.5) * box["width"] / side
    y = box["y"] + (row + 0.5) * box["height"] / side
    page.mouse.move(x - 3, y - 3)
    page.mouse.move(x, y, steps=3)


@pytest.mark.browser
def test_heatmap_appears(server, page, artifacts):
    open_page(page, server, "explore")
    frame = _component(page)
    assert frame.locator("#gs-heatmap .heatmaplayer image, #gs-heatmap .heatmaplayer path").count() >= 1
    assert frame.locator("#gs-scatter .scatterlayer, #gs-scatter .gl-container").count() >= 1
    assert metric(page, "Items") == str(N_ITEMS)
    page.screenshot(path=str(artifacts / "explore-heatmap.png"), full_page=True)


@pytest.mark.browser
@pytest.mark.parametrize("row,column", [(3, 10), (45, 7), (79, 0)])
def test_hovering_a_cell_shows_that_items_image_and_caption(server, page, store, artifacts, row, column):
    open_page(page, server, "explore")
    frame = _component(page)
    side = 2 * N_ITEMS
    expected = str(row % N_ITEMS)  # items in order, the image block over the text block
    _hover_cell(page, frame, row, column, side)
    panel = frame.locator("#gs-hover-panel")
    panel.locator(f'xpath=self::*[@data-item-id="{expected}"]').wait_for(timeout=10_000)
    texts = store.items("synthetic").set_index("item_id")["text"]
    assert frame.locator("#gs-hover-caption").inner_text() == texts[expected]
    assert frame.locator("#gs-hover-id").inner_text() == f"item {expected}"
    source = frame.locator("#gs-hover-image").get_attribute("src")
    assert frame.locator("#gs-hover-image").is_visible() and source.startswith("data:image/png;base64,")
    assert base64.b64decode(source.split(",", 1)[1]) == store.thumbnails("synthetic", [expected])[expected]
    column_id = str(column % N_ITEMS)
    assert frame.locator("#gs-hover-col-caption").inner_text() == texts[column_id]
    assert frame.locator("#gs-hover-value").inner_text().startswith(("image", "text"))
    page.screenshot(path=str(artifacts / f"explore-hover-{row}-{column}.png"))


@pytest.mark.browser
def test_a_sql_subset_changes_the_item_count_on_explore(server, page, store, artifacts):
    expected = len(store.query("SELECT item_id FROM items WHERE dataset = 'synthetic' AND ordinal % 3 = 0"))
    open_page(page, server, "explore")
    assert metric(page, "Items") == str(N_ITEMS)
    open_page(page, server, "sql")
    type_query(page, SUBSET_SQL)
    page.get_by_role("button", name="Use as subset").click()
    settle(page)
    assert page.locator('[data-testid="stAlert"]').filter(has_text=f"Subset: {expected} items").count() == 1
    assert "sql=" in page.url
    page.screenshot(path=str(artifacts / "sql-use-as-subset.png"), full_page=True)
    page.locator('[data-testid="stSidebarNav"] a').filter(has_text="Explore").click()
    settle(page)
    assert exceptions(page) == []
    assert metric(page, "Items") == str(expected) and expected < N_ITEMS
    assert page.get_by_role("textbox", name="SQL subset").input_value() == SUBSET_SQL
    page.screenshot(path=str(artifacts / "explore-after-sql.png"), full_page=True)


@pytest.mark.browser
def test_a_copied_url_restores_the_view(server, browser, page, artifacts):
    open_page(page, server, "explore", "sql=" + SUBSET_SQL.replace(" ", "+").replace("%", "%25"))
    page.locator('[data-testid="stSidebar"]').get_by_role("combobox", name="Model").click()
    page.get_by_role("option", name="synth-b", exact=True).click()
    settle(page)
    slider = page.get_by_role("slider", name="Close the modality gap (fraction)")
    slider.focus()
    slider.press("End")  # all the way: Amumo's closing, the toggle's "on"
    page.wait_for_url("**closed=1**", timeout=120_000)
    settle(page)
    url = page.url
    assert "model=synth-b" in url and "closed=1" in url and "sql=" in url
    count = metric(page, "Items")
    page.screenshot(path=str(artifacts / "url-original.png"), full_page=True)

    context = browser.new_context(viewport={"width": 1600, "height": 1200})
    copy = context.new_page()
    try:
        copy.goto(url)
        settle(copy)
        assert exceptions(copy) == []
        assert metric(copy, "Items") == count
        restored = copy.get_by_role("slider", name="Close the modality gap (fraction)")
        assert float(restored.input_value()) == 1.0
        assert copy.locator('[data-testid="stSidebar"]').get_by_role("combobox", name="Model").input_value() == "synth-b"
        assert copy.get_by_role("textbox", name="SQL subset").input_value() == SUBSET_SQL
        title = _component(copy).locator("#gs-heatmap .gtitle").text_content()
        assert "synth-b" in title and "gap closed" in title
        copy.screenshot(path=str(artifacts / "url-restored.png"), full_page=True)
    finally:
        context.close()
