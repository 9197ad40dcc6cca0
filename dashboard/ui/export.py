"""Export buttons (data made only when clicked, so nothing big is held per rerun): figures as HTML (PNG with kaleido when installed; the plotly toolbar's camera button
downloads a PNG in the browser either way) and tables as CSV/JSON."""
from __future__ import annotations

import importlib.util
import re
from typing import Callable

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

HAS_KALEIDO = importlib.util.find_spec("kaleido") is not None


def _slug(name: str) -> str:
    """A file-name-safe version of a title."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "gapscope"


def figure_buttons(figure: go.Figure, name: str, key: str,
                   data: pd.DataFrame | Callable[[], pd.DataFrame] | None = None, where=st, what: str = "Figure") -> None:
    """Download buttons for a figure: HTML (plotly.js inlined, works offline), PNG if kaleido is there, CSV data
    (a frame, or a function making it when the button is clicked)."""
    slug = _slug(name)
    columns = where.columns(3)
    columns[0].download_button(f"{what} (HTML)", lambda: figure.to_html(include_plotlyjs=True, full_html=True),
                               file_name=f"{slug}.html", mime="text/html", key=f"{key}_html",
                               on_click="ignore")
    if HAS_KALEIDO:
        columns[1].download_button(f"{what} (PNG)", lambda: figure.to_image(format="png"), file_name=f"{slug}.png",
                                   mime="image/png", key=f"{key}_png", on_click="ignore")
    if data is not None:
        columns[2].download_button(f"{what} data (CSV)",
                                   lambda: (data() if callable(data) else data).to_csv(index=False),
                                   file_name=f"{slug}.csv", mime="text/csv", key=f"{key}_csv", on_click="ignore")


def table_buttons(frame: pd.DataFrame | Callable[[], pd.DataFrame], name: str, key: str, where=st) -> None:
    """Download buttons for a table (or a function making it when a button is clicked) as CSV and JSON."""
    slug, table = _slug(name), frame if callable(frame) else lambda: frame
    left, right = where.columns(2)
    left.download_button("CSV", lambda: table().to_csv(index=False), file_name=f"{slug}.csv", mime="text/csv",
                         key=f"{key}_csv", on_click="ignore")
    right.download_button("JSON", lambda: table().to_json(orient="records", indent=1), file_name=f"{slug}.json",
                          mime="application/json", key=f"{key}_json", on_click="ignore")
