"""Search: nearest neighbours, across modalities, of an item or of a typed text (when the model's text encoder
is installed), for the model chosen in the sidebar (LanceDB vector search). URL parameters: sby, sitem, sfrom, sto,
sk, stext (prefixed so they never meet other pages' widgets)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.search import MAX_K, neighbours_of_text, text_search_available
from dashboard.ui import loaders, widgets
from dashboard.ui.export import table_buttons
from dashboard.ui.guard import shown_errors
from dashboard.ui.sidebar import View, sidebar

MAX_ITEM_OPTIONS = 2_000
COLUMNS_PER_ROW = 5
ALL = "all modalities"


def caption_of(view: View, ids: list[str]) -> dict[str, str]:
    """Item id -> caption of some items of the dataset."""
    texts = loaders.items(view.store, view.version, view.dataset).set_index("item_id")["text"]
    return dict(zip(ids, texts.reindex(ids).fillna("").astype(str)))


def embedded(view: View) -> list[str]:
    """The dataset's modalities that the chosen model embedded."""
    frame = loaders.coverage(view.store, view.version)
    done = set(frame.loc[(frame["dataset"] == view.dataset) & (frame["model"] == view.model), "modality"])
    return [m for m in view.modalities if m in done]


def item_query(view: View, target: str | None, k: int) -> pd.DataFrame | None:
    """Widgets for a query by item; its neighbours."""
    if not view.item_ids:
        st.warning("no items in view: widen the subset in the sidebar")
        return None
    options = view.item_ids[:MAX_ITEM_OPTIONS]
    captions = caption_of(view, options)
    left, right = st.columns([3, 1])
    item = widgets.selectbox("Item", options, "sitem", options[0], where=left,
                             format_func=lambda i: f"{i} — {captions.get(i, '')[:80]}")
    modalities = embedded(view)
    source = widgets.selectbox("Its embedding of", modalities, "sfrom", modalities[0], where=right)
    return loaders.item_neighbours(view.store, view.version, view.dataset, view.model, item, source, k, target)


def text_query(view: View, target: str | None, k: int) -> pd.DataFrame | None:
    """Widgets for a typed text query; its neighbours (or why the text encoder cannot be used)."""
    missing = text_search_available(loaders.model_record(view.store, view.version, view.model))
    if missing:
        st.info(missing)
        return None
    text = widgets.text("Text", "stext", "", help="embedded by the model's text encoder (loads it on first use)")
    if not text:
        st.caption("type a text to search")
        return None
    with st.spinner(f"Embedding with {view.model}…"):
        return neighbours_of_text(view.store, view.dataset, view.model, text, k, target)


def show_results(view: View, frame: pd.DataFrame) -> None:
    """The neighbours as thumbnails with captions, then as a table."""
    st.metric("Neighbours", len(frame))
    thumbs = loaders.thumbnails(view.store, view.version, view.dataset, tuple(frame["item_id"]))
    for start in range(0, len(frame), COLUMNS_PER_ROW):
        for column, row in zip(st.columns(COLUMNS_PER_ROW), frame.iloc[start:start + COLUMNS_PER_ROW].itertuples()):
            with column.container(border=True):
                if row.item_id in thumbs:
                    st.image(thumbs[row.item_id], width=96)
                st.markdown(f"**#{row.rank}** item `{row.item_id}` ({row.modality}) · {row.similarity:.3f}"
                            + (" · query" if row.is_query else ""))
                st.caption(row.text if isinstance(row.text, str) else "")
    st.dataframe(frame, hide_index=True, width="stretch")
    table_buttons(frame, f"gapscope-search-{view.model}", key="search_export")


st.title("Search")
view: View = sidebar()
mode = widgets.radio("Query by", ["item", "text"], "sby", "item")
left, right = st.columns(2)
target_name = widgets.selectbox("Among", [ALL, *embedded(view)], "sto", ALL, where=left)
k = widgets.number("Neighbours (k)", "sk", 10, 1, MAX_K, where=right)
target = None if target_name == ALL else target_name
with shown_errors():
    results = item_query(view, target, k) if mode == "item" else text_query(view, target, k)
    if results is not None:
        show_results(view, results)
