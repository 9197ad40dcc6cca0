"""Linked hover between the similarity heatmap, the scatter plot and the item details, in the browser.

Why a custom component: st.plotly_chart sends back box/lasso selections but no hover events and no heatmap
clicks, so Amumo's "hover a cell, see the pair" needs its own front end. We use a Streamlit v1 component
(`components.declare_component(path=...)`) rather than `components.html`: the component's folder is served
by Streamlit once and cached by the browser, so the 4.8 MB plotly.js (taken from the plotly Python package,
plotly/package_data/plotly.min.js, no CDN) is not re-sent with every rerun, and the component can send a
clicked item, a box/lasso selection or a heatmap zoom back to Python.

What each rerun sends is bounded by what is drawn: the two figures (numpy arrays as binary typed arrays), the
heatmap's row items (at most MAX_SIDE) and a uint16 row-of-item array for the crosshair. Captions and thumbnails
are not in the rerun: `publish` writes them once per view as content-addressed JSON chunks of CHUNK items into
the served folder (data/<digest>/<k>.json), and the browser fetches the chunk of an item when it is first
hovered (a local request, then held in memory); the captions of the heatmap's rows (at most what is drawn) are
published apart and fetched right after the draw, so a heatmap hover is answered from memory at any N. Hover itself never waits for the server and costs the same at
any N: the hovered item's points and the heatmap crosshair are drawn in a light overlay (absolutely placed marks
positioned with the axes' data-to-pixel maps), never by restyling the WebGL scatter. The redraw key hashes only
the two figure strings (blake2b), not the whole payload; the strings (and their digest) are made once per cached figure object (dashboard/ui/memo.py), not once per rerun. Streamlit refuses symlinks out of a component folder,
so index.html and a copy of plotly.min.js are put in a per-version cache folder on first use.
"""
from __future__ import annotations

import base64
import hashlib
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import plotly
import plotly.graph_objects as go
import streamlit as st
import streamlit.components.v1 as components

from dashboard.ui.memo import derived

NAME = "gapscope_hover"
_SOURCE = Path(__file__).with_name("index.html")
_PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def _served_dir() -> Path:
    """A folder holding index.html and plotly.min.js, created once per version of either."""
    digest = hashlib.sha1(_SOURCE.read_bytes() + plotly.__version__.encode()).hexdigest()[:12]
    folder = Path(tempfile.gettempdir()) / f"gapscope-hover-{digest}"
    if not (folder / "plotly.min.js").is_file():
        staging = Path(tempfile.mkdtemp(prefix="gapscope-hover-"))
        shutil.copy(_SOURCE, staging / "index.html")
        shutil.copy(_PLOTLY_JS, staging / "plotly.min.js")
        try:
            staging.rename(folder)
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
    return folder


_component = components.declare_component(NAME, path=str(_served_dir()))
CHUNK = 1000


def publish(name: str, records: list) -> str:
    """Write `records` as JSON chunks of CHUNK into the served folder under a digest of their content (once);
    returns the folder's URL relative to the component page. `name` only labels the folder."""
    text = [json.dumps(records[k:k + CHUNK], separators=(",", ":")) for k in range(0, max(len(records), 1), CHUNK)]
    digest = hashlib.blake2b("\x00".join(text).encode(), digest_size=12).hexdigest()
    folder = _served_dir() / "data" / f"{name}-{digest}"
    if not folder.is_dir():
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix="staging-", dir=folder.parent))
        for k, chunk in enumerate(text):
            (staging / f"{k}.json").write_text(chunk)
        try:
            staging.rename(folder)
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
    return f"./data/{folder.name}"


def _draw_key(*parts: str | None) -> str:
    """A digest of what is drawn (the figure strings and the data folders)."""
    digest = hashlib.blake2b(digest_size=12)
    for part in parts:
        digest.update((part or "").encode())
        digest.update(b"\x00")
    return digest.hexdigest()


def linked_view(heatmap: go.Figure | None, scatter: go.Figure | None, rows: list[str], labels: list[str],
                block_size: int, blocks: int, items_url: str, key: str, height: int = 540,
                row_index: list[int] | None = None, row_of: bytes | None = None, thumbs_url: str | None = None,
                zoomable: bool = False, rows_url: str | None = None) -> dict | None:
    """Draw heatmap and scatter with linked hover. `rows` holds one item id per heatmap row and `row_index` its
    index in the published items (`items_url`: chunks of [id, caption]); scatter markers carry item indices as
    customdata (or are in index order); `row_of` (uint16, 65535 = none) maps an item index to its row in the first
    block (the crosshair on scatter hover); `thumbs_url` holds [row, data URI] pairs; `rows_url` (chunks of [id,
    caption] per heatmap row) answers a heatmap hover from data fetched right after the draw. Returns a new browser event,
    once: {"item": id} after a click, {"selected": [indices]} after a box/lasso selection in the scatter,
    {"zoom": [first_row, last_row]} after a click or box drag on an aggregated (`zoomable`) heatmap, else None."""
    heat_json = derived(heatmap, "json", heatmap.to_json) if heatmap is not None else None
    scatter_json = derived(scatter, "json", scatter.to_json) if scatter is not None else None
    payload: dict[str, Any] = {
        "heatmap": heat_json, "scatter": scatter_json, "rows": rows, "labels": labels, "blockSize": block_size,
        "blocks": blocks, "itemsUrl": items_url, "thumbsUrl": thumbs_url, "rowsUrl": rows_url, "chunk": CHUNK, "height": height,
        "rowIndex": row_index if row_index is not None else list(range(len(rows))), "zoomable": zoomable,
        "rowOf": base64.b64encode(row_of).decode() if row_of is not None else None}
    payload["drawKey"] = _draw_key(derived(heatmap, "digest", lambda: _draw_key(heat_json)) if heatmap else None,
                                   derived(scatter, "digest", lambda: _draw_key(scatter_json)) if scatter else None,
                                   items_url, thumbs_url, rows_url)
    value = _component(**payload, key=key, default=None)
    seen = f"_gs_seen_{key}"
    if not isinstance(value, dict) or value.get("at") == st.session_state.get(seen):
        return None
    st.session_state[seen] = value.get("at")
    return value
