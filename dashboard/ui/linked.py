"""Glue between the page and the linked-hover component: the published captions and thumbnails of the view, the
heatmap's row items and the item-to-row map, sized by what is drawn (dashboard/ui/hover explains the transport)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard.figures.heatmap import HeatmapData
from dashboard.ui import compute, loaders
from dashboard.ui.hover import linked_view, publish
from dashboard.ui.items import data_uri
from dashboard.ui.memo import derived
from dashboard.ui.state import ViewKey

MAX_THUMBS = 600
MAX_CAPTION = 120
NO_ROW = 65535


def captioned(key: ViewKey, ids: list[str]) -> list[list[str]]:
    """[id, caption] of each item (captions cut at MAX_CAPTION characters)."""
    texts = loaders.items(key.store, key.version, key.dataset).set_index("item_id")["text"]
    captions = texts.reindex(ids).fillna("").astype(str).str.slice(0, MAX_CAPTION).tolist()
    return [list(pair) for pair in zip(ids, captions)]


@st.cache_data(max_entries=16, show_spinner=False)
def items_url(key: ViewKey, model: str) -> str:
    """The published [id, caption] of every item of the view (in the index order of compute.item_ids)."""
    return publish("items", captioned(key, compute.item_ids(key, model)))


@st.cache_data(max_entries=32, show_spinner=False)
def rows_url(key: ViewKey, rows: tuple[str, ...]) -> str:
    """The published [id, caption] of each heatmap row's item: at most the drawn rows, fetched by the browser
    right after the draw, so a heatmap hover never waits for an items chunk at any N."""
    return publish("rows", captioned(key, list(rows)))


@st.cache_data(max_entries=32, show_spinner=False)
def thumbs_url(key: ViewKey, rows: tuple[str, ...]) -> str | None:
    """The published [row, thumbnail data URI] of the first MAX_THUMBS heatmap rows that have one."""
    wanted = rows[:MAX_THUMBS]
    thumbs = loaders.thumbnails(key.store, key.version, key.dataset, wanted)
    found = [[k, data_uri(thumbs[item])] for k, item in enumerate(wanted) if item in thumbs]
    return publish("thumbs", found) if found else None


def row_of(heat: HeatmapData, ids: list[str]) -> bytes:
    """uint16 bytes: each item's row in the heatmap's first block (NO_ROW when the heatmap does not show it)."""
    runs = heat.row_items[:heat.block]
    members = pd.Index(ids).get_indexer([item for run in runs for item in run])
    rows = np.full(len(ids), NO_ROW, dtype="<u2")
    rows[members[members >= 0]] = np.repeat(np.arange(len(runs), dtype="<u2"), [len(r) for r in runs])[members >= 0]
    return rows.tobytes()


def show_linked(view, model: str, heat: HeatmapData, heat_figure: go.Figure | None,
                scatter_figure: go.Figure | None, key: str, height: int = 540) -> dict | None:
    """Draw the linked heatmap + scatter + hover panel; returns a new click/selection/zoom event or None. The
    scatter must use compute.item_ids(view.key, model) as its index space and carry no hover text."""
    ids = compute.item_ids(view.key, model)
    rows = [run[0] for run in heat.row_items]
    index = derived(heat, f"index {model}", lambda: pd.Index(ids).get_indexer(rows).tolist())
    return linked_view(heat_figure, scatter_figure, rows, heat.labels, heat.block, len(heat.modalities),
                       items_url(view.key, model), key=key, height=height, row_index=index,
                       rows_url=rows_url(view.key, tuple(rows)),
                       row_of=derived(heat, f"row_of {model}", lambda: row_of(heat, ids)),
                       thumbs_url=thumbs_url(view.key, tuple(rows[:heat.block])), zoomable=heat.aggregated)
