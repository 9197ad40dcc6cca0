"""Metric bar charts: one bar per (dataset, model) or per model, grouped by metric."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go


def metric_bars(frame: pd.DataFrame, metrics: list[str], label: str = "model", title: str = "",
                height: int = 380) -> go.Figure:
    """Grouped bars: x = metric, one bar series per row label."""
    figure = go.Figure()
    for _, row in frame.iterrows():
        values = [row.get(m) for m in metrics]
        figure.add_trace(go.Bar(x=metrics, y=values, name=str(row[label])))
    figure.update_layout(barmode="group", title=title, height=height, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return figure
