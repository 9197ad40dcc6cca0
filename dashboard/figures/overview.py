"""The Overview's compact chart of one dataset: a row per model, panels for gap distance (with its interval when
the stored metrics carry one), loss and Recall@k image-to-text."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

RECALL_KS = ("1", "5", "10")
RECALL_COLOURS = ("#1f77b4", "#6baed6", "#c6dbef")


def _gap_bar(frame: pd.DataFrame) -> go.Bar:
    """Gap distance per model, the [lo, hi] interval as an asymmetric error bar where known."""
    gap = frame["gap_distance"].astype(float).to_numpy()
    lo = np.array([ci[0] if isinstance(ci, (list, tuple)) else np.nan for ci in frame["gap_ci"]], dtype=float)
    hi = np.array([ci[1] if isinstance(ci, (list, tuple)) else np.nan for ci in frame["gap_ci"]], dtype=float)
    error = None
    if np.isfinite(lo).any():
        error = {"type": "data", "symmetric": False, "array": np.nan_to_num(hi - gap).tolist(),
                 "arrayminus": np.nan_to_num(gap - lo).tolist(), "thickness": 1.5}
    return go.Bar(y=frame["model"], x=gap, orientation="h", name="gap distance", marker_color="#d62728",
                  error_x=error, showlegend=False, hovertemplate="%{y}: gap %{x:.3f}<extra></extra>")


def model_chart(frame: pd.DataFrame, height_per_model: int = 30) -> go.Figure:
    """Three panels side by side, models on the y axis (first model on top)."""
    frame = frame.iloc[::-1]
    figure = make_subplots(rows=1, cols=3, shared_yaxes=True, horizontal_spacing=0.04,
                           subplot_titles=("gap distance ||mean(image) - mean(text)||", "loss", "Recall@k image→text"))
    figure.add_trace(_gap_bar(frame), row=1, col=1)
    figure.add_trace(go.Bar(y=frame["model"], x=frame["loss"], orientation="h", name="loss", marker_color="#7f7f7f",
                            showlegend=False, hovertemplate="%{y}: loss %{x:.3f}<extra></extra>"), row=1, col=2)
    for k, colour in zip(RECALL_KS, RECALL_COLOURS):
        column = f"R@{k}"
        if column in frame:
            figure.add_trace(go.Bar(y=frame["model"], x=frame[column], orientation="h", name=column,
                                    marker_color=colour, hovertemplate=f"%{{y}}: {column} %{{x:.2f}}<extra></extra>"),
                             row=1, col=3)
    figure.update_xaxes(range=[0, 1], row=1, col=3)
    figure.update_layout(barmode="group", height=90 + height_per_model * len(frame) * 2, bargap=0.25,
                         margin={"l": 10, "r": 10, "t": 40, "b": 10},
                         legend={"orientation": "h", "x": 1, "xanchor": "right", "y": -0.15})
    figure.update_annotations(font_size=12)
    return figure
