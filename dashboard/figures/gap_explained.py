"""Figures and tables of the gap analysis (dashboard.gap_explained), one entry per model: shift versus shape, where
the gap lives, the ablation curve, the closing methods side by side, joint clustering and temperature."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

COLOURS = qualitative.Plotly
MARGIN = {"l": 10, "r": 10, "t": 60, "b": 10}


def shape_table(blocks: dict[str, dict]) -> pd.DataFrame:
    """One row per model: the Fréchet split and the energy distance before and after centring, with intervals."""
    rows = []
    for model, block in blocks.items():
        ci = block.get("ci", {}).get("shift_or_shape", {})
        row = {"model": model}
        for name, value in block["shift_or_shape"].items():
            row |= {name: value, **({f"{name} 95 % CI": span(ci[name])} if name in ci else {})}
        rows.append(row | {"source": block.get("source")})
    return pd.DataFrame(rows)


def shape_figure(blocks: dict[str, dict], title: str = "") -> go.Figure:
    """Stacked shift and shape terms of the Fréchet distance (left), energy distance raw and centred (right)."""
    figure = make_subplots(rows=1, cols=2, subplot_titles=("Fréchet distance² = shift + shape",
                                                           "energy distance: as is / each modality centred"))
    models = list(blocks)
    for name, colour in (("shift", COLOURS[0]), ("shape", COLOURS[1])):
        figure.add_trace(go.Bar(x=models, y=[blocks[m]["shift_or_shape"][name] for m in models], name=name,
                                marker_color=colour), row=1, col=1)
    for name, colour in (("energy", COLOURS[2]), ("energy_centred", COLOURS[3])):
        figure.add_trace(go.Bar(x=models, y=[blocks[m]["shift_or_shape"][name] for m in models], name=name,
                                marker_color=colour), row=1, col=2)
    figure.update_layout(title=title, barmode="relative", height=360, margin=MARGIN)
    return figure


def location_table(blocks: dict[str, dict]) -> pd.DataFrame:
    """Per model: how many dimensions / principal directions carry 50 % and 90 % of ||g||^2, and the top ones."""
    rows = []
    for model, block in blocks.items():
        where = block["location"]
        row = {"model": model}
        for part in ("dimensions", "directions"):
            top = where[part]["top"][0]
            row |= {f"{part} for 50 %": where[part]["count_50"], f"{part} for 90 %": where[part]["count_90"],
                    f"top {part[:-1]}": top["index"], f"top {part[:-1]} share": top["share"]}
        rows.append(row)
    return pd.DataFrame(rows)


def location_figure(block: dict, title: str = "") -> go.Figure:
    """Share of ||g||^2 of the top embedding dimensions (left) and principal directions (right) of one model."""
    figure = make_subplots(rows=1, cols=2, subplot_titles=("by embedding dimension", "by principal direction"))
    for col, part in ((1, "dimensions"), (2, "directions")):
        top = block["location"][part]["top"]
        figure.add_trace(go.Bar(x=[f"{'dim' if col == 1 else 'PC'} {t['index']}" for t in top],
                                y=[t["share"] for t in top], marker_color=COLOURS[col - 1], showlegend=False),
                         row=1, col=col)
    figure.update_yaxes(title_text="share of ||g||²", row=1, col=1)
    figure.update_layout(title=title, height=360, margin=MARGIN)
    return figure


def ablation_figure(blocks: dict[str, dict], title: str = "") -> go.Figure:
    """Gap, InfoNCE loss and R@1 both ways after removing the top-k gap dimensions, one line per model."""
    figure = make_subplots(rows=1, cols=3,
                           subplot_titles=("gap distance", "InfoNCE loss", "R@1 (solid a→b, dotted b→a)"))
    for k, (model, block) in enumerate(blocks.items()):
        curve, line = block["ablation"], {"color": COLOURS[k % len(COLOURS)]}
        x = [str(v) for v in curve["k"]]
        figure.add_trace(go.Scatter(x=x, y=curve["gap"], name=model, legendgroup=model, line=line), row=1, col=1)
        figure.add_trace(go.Scatter(x=x, y=curve["loss"], name=model, legendgroup=model, line=line,
                                    showlegend=False), row=1, col=2)
        for direction, dash in (("a_to_b", "solid"), ("b_to_a", "dot")):
            figure.add_trace(go.Scatter(x=x, y=[r["1"] for r in curve[direction]], name=model, legendgroup=model,
                                        line=line | {"dash": dash}, showlegend=False), row=1, col=3)
    figure.update_xaxes(title_text="top gap dimensions removed (k)", type="category")
    figure.update_layout(title=title, height=380, margin=MARGIN)
    return figure


def ablation_table(blocks: dict[str, dict]) -> pd.DataFrame:
    """One row per model and k of the ablation curve: gap, loss and R@1 both ways, with their intervals."""
    rows = []
    for model, block in blocks.items():
        curve, ci = block["ablation"], block.get("ci", {}).get("ablation", {})
        for i, k in enumerate(curve["k"]):
            row = {"model": model, "k": k}
            for name, label in (("gap", "gap"), ("loss", "loss"), ("a_to_b", "R@1 a→b"), ("b_to_a", "R@1 b→a")):
                value, found = curve[name][i], ci.get(name, [])
                row |= {label: value["1"] if isinstance(value, dict) else value,
                        f"{label} 95 % CI": span((found[i].get("1") if isinstance(found[i], dict) else found[i])
                                                 if i < len(found) else None)}
            rows.append(row)
    return pd.DataFrame(rows)


def span(ci: list[float] | None) -> str:
    """An interval as "[lo, hi]" (empty without one)."""
    return f"[{ci[0]:.3g}, {ci[1]:.3g}]" if ci else ""


def closing_table(closings: dict[str, dict]) -> pd.DataFrame:
    """One row per model and method: held-out gap, loss, R@1/5/10 both ways and in-modal structure kept, with the
    bootstrap intervals of gap, loss, R@1 and structure when the block carries them ("ci")."""
    rows = []
    for model, block in closings.items():
        for method, r in block["methods"].items():
            ci = block.get("ci", {}).get("methods", {}).get(method, {})
            rows.append({"model": model, "method": method, "gap": r["gap"], "gap 95 % CI": span(ci.get("gap")),
                         "loss": r["loss"], "loss 95 % CI": span(ci.get("loss")),
                         "R@1 a→b 95 % CI": span(ci.get("a_to_b", {}).get("1")),
                         **{f"R@{k} a→b": v for k, v in r["a_to_b"].items()},
                         **{f"R@{k} b→a": v for k, v in r["b_to_a"].items()},
                         "structure a": r["structure_a"], "structure a 95 % CI": span(ci.get("structure_a")),
                         "structure b": r["structure_b"], "structure b 95 % CI": span(ci.get("structure_b")),
                         "held-out pairs": block["held_out_pairs"]})
    return pd.DataFrame(rows)


def joint_table(joints: dict[str, dict], blocks: dict[str, dict]) -> pd.DataFrame:
    """Per model: joint-clustering figures (with intervals) next to R@1 (at k = 0 of the ablation curve, same
    evaluation sample)."""
    return pd.DataFrame([{"model": m, **{k: v for k, v in j.items() if k not in ("source", "ci")},
                          **{f"{k} 95 % CI": span(v) for k, v in j.get("ci", {}).items()},
                          "R@1 a→b": blocks[m]["ablation"]["a_to_b"][0]["1"],
                          "R@1 b→a": blocks[m]["ablation"]["b_to_a"][0]["1"]} for m, j in joints.items()])


def joint_figure(table: pd.DataFrame, title: str = "") -> go.Figure:
    """Grouped bars per model: pair-in-same-cluster rate (and its chance level), modality purity, V-measure, ARI
    and R@1."""
    figure = go.Figure()
    names = ["pair_same_cluster", "chance_same_cluster", "modality_purity", "v_measure", "adjusted_rand",
             "R@1 a→b", "R@1 b→a"]
    for k, name in enumerate(names):
        figure.add_trace(go.Bar(x=table["model"], y=table[name], name=name, marker_color=COLOURS[k % len(COLOURS)]))
    figure.update_layout(title=title, barmode="group", height=360, margin=MARGIN, yaxis_range=[-0.05, 1.05])
    return figure


def temperature_figure(blocks: dict[str, dict], title: str = "") -> go.Figure:
    """InfoNCE loss (left) and mean softmax entropy a→b (right) against the logit scale (log axis), one line per
    model, with a marker at the model's own scale."""
    figure = make_subplots(rows=1, cols=2, subplot_titles=("InfoNCE loss", "mean softmax entropy a→b (nats)"))
    for k, (model, block) in enumerate(blocks.items()):
        curve, line = block["temperature"], {"color": COLOURS[k % len(COLOURS)]}
        own = curve["scale"].index(min(curve["scale"], key=lambda s: abs(s - curve["model_scale"])))
        for col, name in ((1, "loss"), (2, "entropy_a_to_b")):
            figure.add_trace(go.Scatter(x=curve["scale"], y=curve[name], name=model, legendgroup=model, line=line,
                                        showlegend=col == 1), row=1, col=col)
            figure.add_trace(go.Scatter(x=[curve["scale"][own]], y=[curve[name][own]], mode="markers",
                                        marker={"color": line["color"], "size": 11, "symbol": "star"},
                                        name=f"{model}: own scale", legendgroup=model, showlegend=False),
                             row=1, col=col)
    figure.update_xaxes(title_text="logit scale", type="log")
    figure.update_layout(title=title, height=360, margin=MARGIN)
    return figure
