"""Glue between the page and the linked-hover component: captions, thumbnails and point positions in view."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.figures.heatmap import HeatmapData
from dashboard.ui import loaders
from dashboard.ui.hover import linked_view
from dashboard.ui.items import data_uri
from dashboard.ui.sidebar import View

MAX_THUMBS = 300
MAX_CAPTION = 120


def _payload_items(view: View, rows: list[str], scatter_ids: list[str]) -> dict[str, tuple[str, str | None]]:
    """Caption and (for the first MAX_THUMBS ids, heatmap rows first) thumbnail of each id in view."""
    ordered = list(dict.fromkeys(rows + scatter_ids))
    texts = loaders.items(view.store, view.version, view.dataset).set_index("item_id")["text"]
    thumbs = loaders.thumbnails(view.store, view.version, view.dataset, tuple(ordered[:MAX_THUMBS]))
    out = {}
    for item in ordered:
        caption = texts.get(item)
        out[item] = ((caption if isinstance(caption, str) else "")[:MAX_CAPTION], data_uri(thumbs.get(item)))
    return out


def show_linked(view: View, heat: HeatmapData, heat_figure: go.Figure | None, points: pd.DataFrame | None,
                scatter_figure: go.Figure | None, key: str, height: int = 540) -> dict | None:
    """Draw the linked heatmap + scatter + hover panel; returns a new click/selection event or None. The scatter
    should be built without hover text: the panel shows captions (sent once, in `items`)."""
    rows = [run[0] for run in heat.row_items]
    scatter_ids = [] if points is None else points["item_id"].astype(str).drop_duplicates().tolist()
    items = _payload_items(view, rows, scatter_ids)
    shown = set(scatter_ids)
    item_rows = {item: k for k, run in enumerate(heat.row_items[:heat.block]) for item in run if item in shown}
    return linked_view(heat_figure, scatter_figure, rows, heat.labels, heat.block, len(heat.modalities), items,
                       key=key, height=height, item_rows=item_rows)
