"""SQL: DuckDB queries over read-only views of the store's metadata (items, pairs, models, datasets); a result
with an item_id column becomes the subset every page shows (the URL parameter `sql`, read by the sidebar)."""
from __future__ import annotations

import streamlit as st

from dashboard.errors import GapscopeError
from dashboard.sql import example_queries, run_query, subset_ids, views
from dashboard.ui import state
from dashboard.ui.export import table_buttons
from dashboard.ui.guard import one_line, shown_errors
from dashboard.ui.sidebar import View, sidebar

EDITOR, EXAMPLE, RESULT, NOTICE = "sql_editor", "sql_example", "sql_result", "sql_notice"
SIDEBAR_SQL = "w_sql"  # the sidebar's "SQL subset" widget (dashboard.ui.widgets keys widgets as w_<param>)
DEFAULT = "SELECT item_id, text FROM items ORDER BY ordinal LIMIT 100"
EXAMPLES = example_queries()
PICK = "(pick an example)"


def load_example() -> None:
    """Copy the picked example into the editor."""
    picked = st.session_state.get(EXAMPLE)
    if picked in EXAMPLES:
        st.session_state[EDITOR] = EXAMPLES[picked]


def set_subset(view: View, clear: bool = False) -> None:
    """Make the editor's query the subset of every page (URL `sql` and the sidebar's widget), or report why not."""
    sql = "" if clear else str(st.session_state.get(EDITOR, "")).strip()
    try:
        count = len(subset_ids(view.store, view.dataset, sql)) if sql else view.total
    except GapscopeError as exc:
        st.session_state[NOTICE] = ("error", one_line(exc))
        return
    st.session_state[SIDEBAR_SQL] = sql
    state.put("sql", sql, "")
    st.session_state[NOTICE] = ("success", f"Subset: {count:,} items" if sql else f"Subset cleared: all {count:,} items")


def show_views(view: View) -> None:
    """The views and their columns."""
    with st.expander("Views you can query", expanded=False), shown_errors():
        for name, columns in views(view.store, view.dataset).items():
            st.markdown(f"**{name}**: " + ", ".join(f"`{c}`" for c in columns))
        st.caption("Read-only: one SELECT statement; no files, network, extensions or settings; "
                   "5 s time limit and a row cap.")


def show_result(frame) -> None:
    """The result table with its size and export buttons."""
    more = " (more rows were left out: raise the row limit or add a LIMIT)" if frame.attrs.get("truncated") else ""
    st.caption(f"{len(frame):,} rows{more}")
    st.dataframe(frame, hide_index=True, width="stretch")
    table_buttons(frame, "gapscope-sql", key="sql_export")


st.title("SQL")
view: View = sidebar()
show_views(view)
st.session_state.setdefault(EDITOR, state.get("sql", DEFAULT))
st.selectbox("Example query", [PICK, *EXAMPLES], key=EXAMPLE, on_change=load_example)
sql = st.text_area("Query", key=EDITOR, height=160)
max_rows = st.number_input("Row limit", min_value=1, max_value=10_000, value=1_000, step=100)
run_col, use_col, clear_col = st.columns(3)
if run_col.button("Run", type="primary"):
    try:
        st.session_state[RESULT] = (view.store, view.dataset, run_query(view.store, view.dataset, sql, max_rows=int(max_rows)))
    except GapscopeError as exc:
        st.session_state[RESULT] = (view.store, view.dataset, one_line(exc))
use_col.button("Use as subset", on_click=set_subset, args=(view,))
clear_col.button("Clear subset", on_click=set_subset, args=(view, True))

notice = st.session_state.pop(NOTICE, None)
if notice:
    (st.error if notice[0] == "error" else st.success)(notice[1])
st.caption(f"Current subset: {len(view.item_ids):,} of {view.total:,} items in view"
           + (f" — SQL: `{view.subset.get('sql')}`" if view.subset.get("sql") else ""))
ran = st.session_state.get(RESULT)
if ran is not None and ran[:2] == (view.store, view.dataset):
    if isinstance(ran[2], str):
        st.error(ran[2])
    else:
        show_result(ran[2])
