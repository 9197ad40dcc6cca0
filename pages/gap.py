"""Gap: every metric for every modality pair, the loss landscape of each model, the view before and after
closing the gap (heatmaps with one colour scale, PCA projections), and what explains the gap: shift or shape, where
it lives (ablation curve), ways to close it side by side (mean shift fraction on a slider), joint clustering and
temperature."""
from __future__ import annotations

from itertools import combinations

import pandas as pd
import streamlit as st

from dashboard.figures import gap_explained as gx
from dashboard.figures.heatmap import color_range
from dashboard.figures.landscape import landscape_figure
from dashboard.ui import charts, compute, gap_explained, loaders, uncertainty, widgets
from dashboard.ui.export import figure_buttons, table_buttons
from dashboard.ui.guard import shown_errors
from dashboard.ui.sidebar import View, sidebar
from dashboard.ui.state import ViewKey

st.title("Gap")
view: View = sidebar()
models = loaders.models_for(view.store, view.version, view.dataset)
st.caption(f"{len(view.item_ids):,} items in view; metrics are computed on the items in view (on a sample of "
           f"{compute.METRICS_SAMPLE:,} pairs when there are more, see column n). Intervals: "
           f"{uncertainty.LABEL}, {uncertainty.BOOTSTRAP_B} bootstrap resamples of the items (loss and recall at "
           f"a fixed gallery).")

st.subheader("Metrics for every modality pair")
with shown_errors(), st.spinner("Computing metrics…"):
    table = pd.concat([compute.pair_metrics(view.key, m) for m in models], ignore_index=True)
    source = uncertainty.source_of(view)
    table = uncertainty.with_intervals(table, {m: uncertainty.pair_intervals(source, m) for m in models})
    st.dataframe(table, hide_index=True, width="stretch")
    table_buttons(table, f"gap-metrics-{view.dataset}", "gap_table")

st.subheader("Loss landscape")
pairs = {f"{a}_{b}": (a, b) for a, b in combinations(view.modalities, 2)}
pair = widgets.selectbox("Modality pair", list(pairs), "pair", next(iter(pairs), None)) if pairs else None
if pair:
    first, second = pairs[pair]
    with shown_errors(), st.spinner("Shifting along the gap…"):
        curves = {m: compute.landscape(view.key, m, first, second) for m in models}
        figure = landscape_figure(curves, title=f"{view.dataset}: shifting {first} and {second} along the gap")
        st.plotly_chart(figure, key="gap_landscape")
        summary = pd.DataFrame([{"model": m, **{k: c[k] for k in ("original_distance", "original_loss",
                                 "closed_distance", "closed_loss", "loss_difference", "source") if k in c}}
                                for m, c in curves.items()])
        st.dataframe(summary, hide_index=True)
        figure_buttons(figure, f"landscape-{view.dataset}-{pair}", "gap_landscape_fig", data=summary)

st.subheader(f"Before and after closing the gap · {view.model}")
with shown_errors(), st.spinner("Closing the gap…"):
    zrange = color_range(*(compute.heatmap(view.key, view.model, closed, None, None) for closed in (0.0, 1.0)))
    left, right = st.columns(2)  # fractions, as Explore's slider passes them (the same cache entries)
    for column, name, closed in ((left, "original", 0.0), (right, "gap closed", 1.0)):
        figure = charts.heatmap(view.key, view.model, closed, zrange, f"{view.model}: {name}", 420)
        column.plotly_chart(figure, key=f"gap_heat_{bool(closed)}")
        scatter = charts.scatter(view.key, view.model, closed, title=f"PCA: {name}", height=420, text=True)
        column.plotly_chart(scatter, key=f"gap_scatter_{bool(closed)}")
        with column:
            figure_buttons(figure, f"gap-heatmap-{view.model}-{name}", f"gap_heat_exp_{bool(closed)}")


def gap_explained_sections(view: View, models: list[str]) -> None:
    """Issue 14: shift or shape, where the gap lives, ablation, ways to close it, joint clustering, temperature."""
    if len(view.modalities) < 2:
        return
    first, second = view.modalities[:2]
    st.header(f"Explaining the gap · {first} (a) and {second} (b)")
    with shown_errors(), st.spinner("Analysing the gap…"):
        blocks = {m: gap_explained.analysis(view.key, m) for m in models}
        st.caption("Sources: " + ", ".join(f"{m}: {b['source']}" for m, b in blocks.items()))
        shift_or_shape_section(view.key, tuple(models), blocks)
        location_section(view.key, tuple(models), blocks, view.model)
        closing_section(view, models)
        joint_section(view, models, blocks)
        temperature_section(view.key, tuple(models))


def shift_or_shape_section(key: ViewKey, models: tuple[str, ...], blocks: dict[str, dict]) -> None:
    """Fréchet split and energy distance before and after centring."""
    st.subheader("Shift or shape?")
    st.plotly_chart(gap_explained.figure(key, models, "shape", "Is the gap a shift of the centroids or a difference "
                                         "in shape?"), key="gx_shape")
    table = gx.shape_table(blocks)
    st.dataframe(table, hide_index=True)
    table_buttons(table, "gap-shift-or-shape", "gx_shape_table")


def location_section(key: ViewKey, models: tuple[str, ...], blocks: dict[str, dict], model: str) -> None:
    """Shares of ||g||^2 by dimension and principal direction, and the ablation curve."""
    st.subheader("Where the gap lives")
    st.dataframe(gx.location_table(blocks), hide_index=True)
    if model in blocks:
        st.plotly_chart(gap_explained.figure(key, models, "location", f"{model}: share of ||g||² (top 20)", model),
                        key="gx_location")
    figure = gap_explained.figure(key, models, "ablation", "Removing the top-k gap dimensions (rows renormalised)")
    st.plotly_chart(figure, key="gx_ablation")
    pairs = next(iter(blocks.values()))["ablation"]["eval_pairs"]
    st.caption(f"Gap over all pairs; loss and R@1 on a seeded sample of {pairs} pairs (compare along the curve).")
    figure_buttons(figure, "gap-ablation", "gx_ablation_fig")
    table = gx.ablation_table(blocks)
    st.dataframe(table, hide_index=True)
    table_buttons(table, "gap-ablation-curve", "gx_ablation_table")


def closing_section(view: View, models: list[str]) -> None:
    """The closing methods side by side, with the mean shift's fraction on a slider."""
    st.subheader("Ways to close the gap")
    fraction = widgets.fraction("Mean shift: fraction of the gap closed", "gf", 1.0)
    closings = {m: gap_explained.closing(view.key, m, fraction) for m in models}
    table = gx.closing_table(closings)
    st.dataframe(table, hide_index=True)
    st.caption("Fitted on a seeded half of the pairs, evaluated on the held-out half (loss and R@k on at most "
               "1,000 of them); structure = correlation of in-modal cosines before and after.")
    table_buttons(table, "gap-closing-methods", "gx_closing_table")


def joint_section(view: View, models: list[str], blocks: dict[str, dict]) -> None:
    """Joint k-means of both modalities: pair-in-same-cluster, purity, V-measure, ARI next to R@1."""
    st.subheader("Joint clustering")
    k = widgets.number("Clusters (k)", "gk", 10, 2, 50)
    table = gx.joint_table({m: gap_explained.joint(view.key, m, k) for m in models}, blocks)
    figure = gap_explained.figure(view.key, tuple(models), "joint", f"k-means on images and texts together, k = {k}",
                                  k=k)
    st.plotly_chart(figure, key="gx_joint")
    st.dataframe(table, hide_index=True)


def temperature_section(key: ViewKey, models: tuple[str, ...]) -> None:
    """Loss and softmax entropy over a log grid of logit scales."""
    st.subheader("Temperature")
    st.plotly_chart(gap_explained.figure(key, models, "temperature", "Where the model's logit scale sits (star)"),
                    key="gx_temperature")


gap_explained_sections(view, models)
