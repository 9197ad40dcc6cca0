"""Compare: two to four models side by side on the same items, with one colour scale and the same selection;
metric differences and the pairs on which the models disagree most."""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from dashboard.figures.heatmap import MAX_SIDE, color_range, heatmap_figure
from dashboard.figures.scatter import pair_scatter
from dashboard.ui import compute, loaders, uncertainty
from dashboard.ui.export import table_buttons
from dashboard.ui.guard import shown_errors
from dashboard.ui.items import selection_summary
from dashboard.ui.sidebar import View, selection, set_selection, sidebar

st.title("Compare")
view: View = sidebar(multi_model=True, min_models=2, max_models=4)
if len(view.models) < 2:
    st.info("Choose two to four models in the sidebar.")
    st.stop()


def common_ids(models: list[str]) -> list[str]:
    """Items in view that every chosen model embedded."""
    sets = [set(compute.vectors(view.key, m)[0]) for m in models]
    return [i for i in view.item_ids if all(i in s for s in sets)]


def common_order(model: str, ids: list[str]) -> np.ndarray:
    """Row indices of `ids` in the model's embeddings of the view, so every heatmap shows the same items."""
    return pd.Index(compute.vectors(view.key, model)[0]).get_indexer(ids)


def disagreement(models: list[str], ids: list[str]) -> pd.DataFrame:
    """Per pair: each model's pair cosine, its percentile within the model, and the spread of percentiles."""
    frame = pd.DataFrame({m: compute.pair_cosines(view.key, m).reindex(ids) for m in models})
    ranks = frame.rank(pct=True)
    texts = loaders.items(view.store, view.version, view.dataset).set_index("item_id")["text"]
    out = frame.add_prefix("cosine ").assign(spread=ranks.max(axis=1) - ranks.min(axis=1),
                                             text=texts.reindex(ids).to_numpy())
    return out.rename_axis("item_id").reset_index().sort_values("spread", ascending=False)


with shown_errors():
    ids = common_ids(view.models)
    st.metric("Items compared", f"{len(ids):,}")
    picked = set(selection(view))
    shown, ordering = ids, "given order"
    if len(ids) * len(view.modalities) > MAX_SIDE:  # block means: the same PC 1 order in every model's heatmap
        common = set(ids)
        shown = [i for i in compute.principal_ids(view.key, view.models[0]) if i in common]
        ordering = f"ordered by PC 1 of {view.models[0]}"
    heats = {m: compute.heatmap(view.key, m, False, common_order(m, shown), None, ordering) for m in view.models}
    zrange = color_range(*heats.values())
    columns = st.columns(len(view.models))
    for k, (column, model) in enumerate(zip(columns, view.models)):
        title = model + (f"<br><sup>block means, {ordering}</sup>" if heats[model].aggregated else "")
        column.plotly_chart(heatmap_figure(heats[model], title=title, zrange=zrange, height=360), key=f"cmp_heat_{k}")
        points = compute.with_text(compute.pca_points(view.key, model, False, 1, 2), view.key)
        points = points[points["item_id"].isin(set(ids))]
        scatter = pair_scatter(points, compute.pair_cosines(view.key, model), title=f"PCA · {model}",
                               highlight=picked or None, height=360, ids=ids)
        event = column.plotly_chart(scatter, key=f"cmp_scatter_{k}", on_select="rerun",
                                    selection_mode=("box", "lasso"))
        chosen = [ids[int(p["customdata"])] for p in (event.selection.points if event else []) if "customdata" in p]
        if chosen and set(chosen) != picked:
            position = {item: k for k, item in enumerate(ids)}
            set_selection(sorted(set(chosen) & set(position), key=position.get))
            st.rerun()

    st.subheader("Metric differences")
    metrics = pd.concat([compute.pair_metrics(view.key, m) for m in view.models], ignore_index=True)
    numeric = metrics.select_dtypes("number").columns.drop("n", errors="ignore")
    base = metrics[metrics["model"] == view.models[0]].set_index("pair")[numeric]
    diffs = pd.concat([(metrics[metrics["model"] == m].set_index("pair")[numeric] - base).assign(model=m)
                       for m in view.models[1:]]).reset_index()
    source = uncertainty.source_of(view)
    metrics = uncertainty.with_intervals(metrics, {m: uncertainty.pair_intervals(source, m) for m in view.models})
    st.dataframe(metrics, hide_index=True)
    st.caption(f"Differences to {view.models[0]}:")
    st.dataframe(diffs, hide_index=True)
    table_buttons(metrics, "compare-metrics", "cmp_metrics")

    st.subheader("Pairs on which the models disagree most")
    st.caption("spread = largest minus smallest percentile of the pair's cosine among each model's pairs")
    table = disagreement(view.models, ids)
    st.dataframe(table.head(25), hide_index=True)
    table_buttons(table, "compare-disagreement", "cmp_disagree")

    st.subheader("Which differences are outside the paired-bootstrap interval")
    st.caption(f"Both models resampled on the same items ({uncertainty.BOOTSTRAP_B} resamples); significant = the "
               f"{uncertainty.LABEL} of the difference to {view.models[0]} excludes 0.")
    paired = uncertainty.paired_table(source, tuple(view.models), tuple(ids))
    st.dataframe(paired, hide_index=True)
    table_buttons(paired, "compare-paired-bootstrap", "cmp_paired")

if picked:
    st.subheader("Selection (the same in every model)")
    selection_summary(view, sorted(picked))
