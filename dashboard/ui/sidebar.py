"""The sidebar shared by every page: store, dataset, model(s) and the subset (SQL, caption filter, sample)."""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
import streamlit as st

from dashboard.errors import GapscopeError
from dashboard.ui import loaders, state, widgets
from dashboard.ui.export import table_buttons
from dashboard.ui.guard import one_line

DEFAULT_SAMPLE = 500
SELECTION_KEY = "_gs_selection"
MAX_URL_SELECTION = 200


@dataclass
class View:
    """What the sidebar chose: the store, dataset, model(s) and the item ids in view."""

    store: str
    version: float
    dataset: str
    modalities: list[str]
    model: str | None
    models: list[str]
    item_ids: list[str]
    total: int
    subset: dict = field(default_factory=dict)

    @property
    def key(self) -> state.ViewKey:
        """The subset in view, the key of the cached computations."""
        s = self.subset
        return state.ViewKey(self.store, self.version, self.dataset, s["sql"], s["q"], int(s["n"]), int(s["seed"]))


def _use_app_navigation() -> None:
    """Rerun through app.py when Streamlit ran a page file directly.

    Streamlit decides once per server, on the first session, whether the app uses the old `pages/` folder mode;
    a first visit straight to a page URL (e.g. a shared link /explore?...) therefore runs that page without app.py
    (no st.navigation, no page config) until app.py has run once. Clearing that flag and rerunning sends the
    session through app.py, which resolves the same page from the URL. Once per session only, so a rerun never
    swallows a button click (AppTest resets the flag before every run). Streamlit offers no supported switch: its
    choice depends only on a folder named `pages` beside the entry script, which the project's layout keeps; so this
    private flag (PagesManager.uses_pages_directory) is reset, with Streamlit pinned in pyproject.toml to the
    versions tested to have it (tests/demo/test_streamlit_pin.py)."""
    from streamlit.runtime.pages_manager import PagesManager

    if getattr(PagesManager, "uses_pages_directory", None) and not st.session_state.get("_gs_navigation_fixed"):
        PagesManager.uses_pages_directory = False
        st.session_state["_gs_navigation_fixed"] = True
        st.rerun()


def sidebar(multi_model: bool = False, min_models: int = 1, max_models: int = 4) -> View:
    """Draw the sidebar and return the view; stops the page with st.error when the store cannot be used."""
    _use_app_navigation()
    state.restore()
    bar = st.sidebar
    default_store = loaders.store_path(None)
    raw = widgets.text("Store", "store", default_store, where=bar, help="folder of a gapscope store")
    path = loaders.store_path(raw or None)
    try:
        loaders.check_allowed(path)
        version = loaders.store_version(path)
        store_datasets = loaders.datasets(path, version)
    except (GapscopeError, OSError) as exc:
        st.error(one_line(exc))
        st.stop()
    if store_datasets.empty:
        st.error(f"{path}: the store holds no datasets yet")
        st.stop()
    names = store_datasets["name"].tolist()
    real = store_datasets.loc[store_datasets["kind"] != "sweep", "name"].tolist()
    dataset = widgets.selectbox("Dataset", names, "dataset", (real or names)[0], where=bar)
    modalities = list(store_datasets.set_index("name").loc[dataset, "modalities"])
    available = loaders.models_for(path, version, dataset)
    if not available:
        st.error(f"dataset {dataset!r}: no model has embedded it")
        st.stop()
    model, models = _models(available, multi_model, min_models, max_models)
    item_ids, total, spec = _subset(path, version, dataset)
    return View(path, version, dataset, modalities, model, models, item_ids, total, spec)


def _models(available: list[str], multi: bool, low: int, high: int) -> tuple[str | None, list[str]]:
    """The model selectbox, or the multiselect of 2-4 models on comparison pages."""
    bar = st.sidebar
    if not multi:
        model = widgets.selectbox("Model", available, "model", available[0], where=bar)
        return model, [model]
    chosen = widgets.multiselect("Models", available, "models", available[:max(low, 2)], where=bar,
                                 max_selections=high)
    if len(chosen) < min(low, len(available)):
        st.warning(f"choose at least {low} models")
    return (chosen[0] if chosen else None), chosen


def _subset(path: str, version: float, dataset: str) -> tuple[list[str], int, dict]:
    """The subset widgets and the item ids they select."""
    bar = st.sidebar
    total = len(loaders.items(path, version, dataset))
    with bar.expander("Subset", expanded=True):
        sql = widgets.text("SQL subset", "sql", "", area=True, height=90,
                           help="a DuckDB query returning item_id (see the SQL page); its items become the subset")
        caption = widgets.text("Caption contains", "q", "")
        sample = widgets.number("Sample size", "n", min(DEFAULT_SAMPLE, total), 0, max(total, 1),
                                help="0 = all items")
        seed = widgets.number("Seed", "seed", 0, 0, 2**31 - 1)
    spec = {"sql": sql, "q": caption, "n": sample, "seed": seed}
    try:
        ids = loaders.subset(path, version, dataset, sql, caption, sample, seed)
    except Exception as exc:  # noqa: BLE001 - a bad query is shown, the page keeps the whole dataset
        st.error(f"SQL subset ignored: {one_line(exc)}")
        spec["sql"] = ""
        ids = loaders.subset(path, version, dataset, "", caption, sample, seed)
    bar.caption(f"{len(ids):,} of {total:,} items in view")
    with bar.expander("Export the subset"):  # the table is made when a button is clicked, not on every rerun
        table_buttons(lambda: _subset_table(path, version, dataset, ids), f"subset-{dataset}", "subset")
    return ids, total, spec


def _subset_table(path: str, version: float, dataset: str, ids: list[str]) -> pd.DataFrame:
    """item_id and text of the items in view."""
    frame = loaders.items(path, version, dataset)
    frame = frame if len(ids) == len(frame) else frame[frame["item_id"].isin(set(ids))]
    return frame[["item_id", "text"]]


def selection(view: View) -> list[str]:
    """The item ids selected with box/lasso (shared by all pages; in the URL when short)."""
    stored = st.session_state.get(SELECTION_KEY)
    ids = stored if stored is not None else state.get("sel", [], state.as_list)
    if not ids:
        return []
    in_view = set(view.item_ids)
    return [i for i in ids if i in in_view]


def set_selection(ids: list[str]) -> None:
    """Replace the selection (written to the URL when it has at most MAX_URL_SELECTION items)."""
    st.session_state[SELECTION_KEY] = list(ids)
    state.put("sel", list(ids) if len(ids) <= MAX_URL_SELECTION else None, [])
