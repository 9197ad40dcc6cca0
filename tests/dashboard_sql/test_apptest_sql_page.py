"""AppTest of pages/sql.py: every widget path (examples, run, row limit, errors, use as subset, clear)."""
from __future__ import annotations

from dashboard.sql import example_queries
from dashboard.store import Store

DOG = 'Captions with "dog" but not "hot dog"'
TOTAL = 61


def _ok(app) -> None:
    """The page ran without an exception."""
    assert not app.exception, [e.value for e in app.exception]


def _editor(app):
    return app.text_area(key="sql_editor")


def _button(app, label: str):
    return next(b for b in app.button if b.label == label)


def _captions(app) -> list[str]:
    return [c.value for c in app.caption]


def test_default_render_lists_views_and_runs_the_default_query(page):
    app = page("sql")
    _ok(app)
    views = " ".join(m.value for m in app.markdown)
    assert "**items**" in views and "**pairs**" in views and "`rank_image_to_text`" in views
    assert _editor(app).value.startswith("SELECT item_id, text FROM items")
    assert not app.dataframe
    _button(app, "Run").click().run()
    _ok(app)
    assert app.dataframe[0].value.shape == (61, 2) and "61 rows" in _captions(app)
    assert {"sql_export_csv", "sql_export_json"} <= {b.key for b in app.get("download_button")}


def test_every_example_is_loaded_by_the_picker_and_runs(page):
    app = page("sql")
    for caption, sql in example_queries().items():
        app.selectbox(key="sql_example").select(caption).run()
        assert _editor(app).value == sql
        _button(app, "Run").click().run()
        _ok(app)
        assert not app.error, (caption, [e.value for e in app.error])
        assert len(app.dataframe[0].value) > 0


def test_row_limit_truncates_and_says_so(page):
    app = page("sql")
    app.number_input[0].set_value(7).run()
    _editor(app).input("SELECT * FROM pairs").run()
    _button(app, "Run").click().run()
    assert len(app.dataframe[0].value) == 7
    assert any(c.startswith("7 rows (more rows were left out") for c in _captions(app))


def test_refused_and_broken_queries_show_an_inline_error(page):
    app = page("sql")
    for sql, message in [
        ("SELECT * FROM read_csv('/etc/passwd')", "the table function read_csv is not available"),
        ("ATTACH '/tmp/x.db'", "not ATTACH statements"),
        ("SET threads = 8", "not SET statements"),
        ("SELECT nonsense FROM items", 'Referenced column "nonsense" not found'),
        ("SELECT count(*) FROM range(1000000000000)", "stopped after 5 s (time limit)"),
    ]:
        _editor(app).input(sql).run()
        _button(app, "Run").click().run()
        _ok(app)
        assert len(app.error) == 1 and message in app.error[0].value, (sql, [e.value for e in app.error])
        assert not app.dataframe


def test_use_as_subset_sets_the_url_and_the_sidebar(page, store_path):
    texts = Store.open(store_path).items("synthetic")["text"]
    dogs = int(texts.str.contains(r"\bdog\b").sum())
    app = page("sql")
    app.selectbox(key="sql_example").select(DOG).run()
    _button(app, "Use as subset").click().run()
    _ok(app)
    sql = example_queries()[DOG]
    assert app.query_params["sql"] in (sql, [sql])
    assert app.text_area(key="w_sql").value == sql
    count = int(app.success[0].value.split()[1])
    assert app.success[0].value == f"Subset: {count} items" and count == dogs and 0 < dogs < TOTAL
    assert f"{count} of {TOTAL} items in view" in _captions(app)
    _button(app, "Clear subset").click().run()
    assert "sql" not in app.query_params and app.text_area(key="w_sql").value == ""
    assert app.success[0].value == f"Subset cleared: all {TOTAL} items"
    assert f"{TOTAL} of {TOTAL} items in view" in _captions(app)


def test_a_query_without_item_id_cannot_be_the_subset(page):
    app = page("sql")
    _editor(app).input("SELECT count(*) AS n FROM items").run()
    _button(app, "Use as subset").click().run()
    _ok(app)
    assert app.error[0].value == "SQL: a subset query must return an item_id column (it returns n)"
    assert "sql" not in app.query_params


def test_a_link_with_sql_opens_the_editor_and_the_subset(page):
    sql = "SELECT item_id FROM items WHERE ordinal < 9"
    app = page("sql", sql=sql)
    _ok(app)
    assert _editor(app).value == sql and app.text_area(key="w_sql").value == sql
    assert "9 of 61 items in view" in _captions(app)
