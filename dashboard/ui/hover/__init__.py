"""Linked hover between the similarity heatmap, the scatter plot and the item details, in the browser.

Why a custom component: st.plotly_chart sends back box/lasso selections but no hover events and no heatmap
clicks, so Amumo's "hover a cell, see the pair" needs its own front end. We use a Streamlit v1 component
(`components.declare_component(path=...)`) rather than `components.html`: the component's folder is served
by Streamlit once and cached by the browser, so the 4.8 MB plotly.js (taken from the plotly Python package,
plotly/package_data/plotly.min.js, no CDN) is not re-sent with every rerun, and the component can send a
clicked item back to Python (the page then shows its audio player and molecule drawing). Hover itself is
handled entirely in the browser: each rerun sends the two figures, the captions and base64 thumbnails of the
items in view; plotly_hover fills the side panel (#gs-hover-image, #gs-hover-caption) with no server round
trip. Streamlit refuses symlinks out of a component folder, so index.html and a copy of plotly.min.js are put
in a per-version cache folder on first use.
"""
from __future__ import annotations

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


def linked_view(heatmap: go.Figure | None, scatter: go.Figure | None, rows: list[str], labels: list[str],
                block_size: int, blocks: int, items: dict[str, tuple[str, str | None]], key: str,
                height: int = 540, item_rows: dict[str, int] | None = None) -> dict | None:
    """Draw heatmap and scatter with linked hover; `rows` holds one item id per heatmap row, `items` maps an id to
    (caption, thumbnail data URI), `item_rows` an item to its row in the first block (for the crosshair drawn on
    scatter hover); scatter markers carry item ids as customdata. Returns a new browser event, once:
    {"item": id} after a click, {"selected": [ids]} after a box/lasso selection in the scatter, else None."""
    heat_json = heatmap.to_json() if heatmap is not None else None
    scatter_json = _with_highlight(scatter).to_json() if scatter is not None else None
    item_row = item_rows or {item: k for k, item in enumerate(rows[:block_size])}
    payload: dict[str, Any] = {
        "heatmap": heat_json, "scatter": scatter_json, "rows": rows, "labels": labels, "blockSize": block_size,
        "blocks": blocks, "items": items, "itemRow": item_row, "height": height}
    payload["drawKey"] = hashlib.sha1(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()
    value = _component(**payload, key=key, default=None)
    seen = f"_gs_seen_{key}"
    if not isinstance(value, dict) or value.get("at") == st.session_state.get(seen):
        return None
    st.session_state[seen] = value.get("at")
    return value


def _with_highlight(scatter: go.Figure) -> go.Figure:
    """The scatter plus an empty last trace the browser fills with the hovered item's points."""
    figure = go.Figure(scatter)
    figure.add_trace(go.Scattergl(x=[], y=[], mode="markers", name="hovered", showlegend=False, hoverinfo="skip",
                                  marker={"size": 14, "color": "rgba(0,0,0,0)", "line": {"color": "red", "width": 2}}))
    return figure
