"""The loss landscape (Liang et al. 2022): gap distance and contrastive loss while shifting along the gap vector."""
from __future__ import annotations

from typing import Sequence

import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

COLOURS = qualitative.Plotly


def landscape_figure(curves: dict[str, dict[str, Sequence[float]]], title: str = "", height: int = 380) -> go.Figure:
    """Distance (left) and loss (right) against the shift delta, one line per model; curves[model] holds
    'deltas', 'distances' and 'losses'."""
    figure = make_subplots(rows=1, cols=2, subplot_titles=("gap distance", "contrastive loss"))
    for k, (model, curve) in enumerate(curves.items()):
        line = {"color": COLOURS[k % len(COLOURS)]}
        figure.add_trace(go.Scatter(x=list(curve["deltas"]), y=list(curve["distances"]), mode="lines", line=line,
                                    name=model, legendgroup=model), row=1, col=1)
        figure.add_trace(go.Scatter(x=list(curve["deltas"]), y=list(curve["losses"]), mode="lines", line=line,
                                    name=model, legendgroup=model, showlegend=False), row=1, col=2)
    figure.update_xaxes(title_text="shift along the gap (delta)")
    figure.update_layout(title=title, height=height, margin={"l": 10, "r": 10, "t": 60, "b": 10})
    return figure
