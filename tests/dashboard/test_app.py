"""The app shell, the sidebar and the URL state: every page renders, bad input is a one-line st.error, a copied
URL restores the view, and widget changes are written back to the URL."""
from __future__ import annotations

import pytest
from dash_helpers import linked_args, metric, no_errors, widget

from dashboard.store import Store
from dashboard.synthetic import build_synthetic_store

PAGES = ["overview", "explore", "gap", "compare", "augmentations", "sql", "search"]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders(app, page: str) -> None:
    at = app(page)
    no_errors(at)
    assert at.title, f"{page} has no title"


def test_default_page_is_overview_and_sidebar_state(app, store_path: str) -> None:
    at = app()
    no_errors(at)
    assert at.title[0].value == "Overview"
    assert widget(at, "text_input", "Store").value == store_path
    assert widget(at, "selectbox", "Dataset").value == "synthetic"
    assert widget(at, "selectbox", "Model").value == "synth-a"
    assert "200 of 200 items in view" in [c.value for c in at.sidebar.caption][-1]


def test_missing_store_is_a_one_line_error(app, tmp_path) -> None:
    at = app("explore", store=str(tmp_path / "nowhere"))
    assert not at.exception
    assert len(at.error) == 1
    message = at.error[0].value
    assert "not a gapscope store" in message and "\n" not in message


def test_empty_store_says_so(app, tmp_path) -> None:
    Store.create(tmp_path / "empty")
    at = app("gap", store=str(tmp_path / "empty"))
    assert not at.exception
    assert "holds no datasets" in at.error[0].value


def test_malformed_url_values_fall_back_to_defaults(app) -> None:
    at = app("explore", dataset="nope", model="nope", n="many", seed="-5", k="abc", proj="warp", cx="99")
    no_errors(at)
    assert widget(at, "selectbox", "Dataset").value == "synthetic"
    assert widget(at, "selectbox", "Model").value == "synth-a"
    assert metric(at, "Items") == "200"
    assert widget(at, "number_input", "x component (PCA)").value == 10


def test_copied_url_restores_the_view(app, store_path: str) -> None:
    params = {"model": "synth-b", "q": "dog", "n": "0", "closed": "1", "proj": "tsne", "lines": "0", "cluster": "1",
              "k": "3"}
    at = app("explore", **params)
    no_errors(at)
    items = Store.open(store_path).items("synthetic")
    dogs = items["text"].str.contains("dog", case=False).sum()
    assert metric(at, "Items") == str(dogs)
    assert widget(at, "selectbox", "Model").value == "synth-b"
    assert widget(at, "text_input", "Caption contains").value == "dog"
    assert widget(at, "slider", "Close the modality gap (fraction)").value == 1.0
    assert widget(at, "toggle", "Lines between pairs").value is False
    assert widget(at, "selectbox", "Method").value == "tsne"
    for key, value in params.items():
        assert at.query_params[key] == value


def test_widget_changes_are_written_to_the_url(app) -> None:
    at = app("explore")
    widget(at, "number_input", "Sample size").set_value(40).run()
    widget(at, "slider", "Close the modality gap (fraction)").set_value(1.0).run()
    widget(at, "selectbox", "Model").set_value("synth-b").run()
    no_errors(at)
    assert metric(at, "Items") == "40"
    assert at.query_params["n"] == "40" and at.query_params["closed"] == "1" and at.query_params["model"] == "synth-b"
    widget(at, "slider", "Close the modality gap (fraction)").set_value(0.35).run()
    assert at.query_params["closed"] == "0.35"
    widget(at, "slider", "Close the modality gap (fraction)").set_value(0.0).run()
    assert "closed" not in at.query_params


def test_sample_seed_changes_the_items(app) -> None:
    first, second, again = (app("explore", n="20", seed=seed) for seed in ("1", "2", "1"))
    ids = [linked_args(at)["rows"][:20] for at in (first, second, again)]
    assert len(set(ids[0])) == 20 and ids[0] != ids[1] and ids[0] == ids[2]


def test_sql_subset_from_url(app, store_path: str) -> None:
    sql = "SELECT item_id FROM items WHERE text LIKE '%dog%' AND text NOT LIKE '%hot dog%'"
    at = app("explore", sql=sql, n="0")
    no_errors(at)
    texts = Store.open(store_path).items("synthetic")["text"]
    expected = (texts.str.contains("dog") & ~texts.str.contains("hot dog")).sum()
    assert metric(at, "Items") == str(expected)
    assert widget(at, "text_area", "SQL subset").value == sql


@pytest.mark.parametrize("sql", ["SELECT * FROM read_csv('/etc/passwd')", "COPY items TO '/tmp/x.csv'",
                                 "ATTACH '/tmp/x.db'", "SELECT nonsense FROM", "DROP TABLE items"])
def test_bad_sql_is_refused_inline_and_the_page_keeps_working(app, sql: str) -> None:
    at = app("explore", sql=sql, n="0")
    assert not at.exception
    assert len(at.error) == 1 and at.error[0].value.startswith("SQL subset ignored:")
    assert "\n" not in at.error[0].value
    assert metric(at, "Items") == "200"


def test_state_survives_a_page_switch(app) -> None:
    at = app("explore", model="synth-b", q="cat")
    at.switch_page("pages/gap.py").run()
    no_errors(at)
    assert widget(at, "selectbox", "Model").value == "synth-b"
    assert widget(at, "text_input", "Caption contains").value == "cat"


@pytest.mark.parametrize("page", ["overview", "explore", "gap", "compare", "augmentations"])
def test_single_modality_store_never_crashes(app, tmp_path_factory, page: str) -> None:
    path = tmp_path_factory.getbasetemp() / "single"
    if not path.exists():
        build_synthetic_store(path, n=30, dim=8, modalities=("image",), dataset="images")
    at = app(page, store=str(path))
    assert not at.exception, [e.value for e in at.exception]
    assert all("\n" not in e.value for e in at.error)
    assert at.title


@pytest.mark.parametrize("page", PAGES)
def test_imagebinds_sensor_modalities_render_on_every_page(app, tmp_path_factory, page: str) -> None:
    path = tmp_path_factory.getbasetemp() / "sensors"
    if not path.exists():
        build_synthetic_store(path, n=40, dim=8, modalities=("depth", "text", "thermal", "imu"), dataset="sensors")
    at = app(page, store=str(path))
    no_errors(at)
    assert at.title


def test_store_roots_limit_which_stores_a_url_can_open(app, store_path: str, triple_store: str, monkeypatch) -> None:
    from pathlib import Path
    monkeypatch.setenv("GAPSCOPE_STORE_ROOTS", str(Path(store_path).parent))
    at = app(store=triple_store)
    assert [e.value for e in at.error] == [f"store {triple_store}: outside the folders this dashboard serves "
                                           f"(GAPSCOPE_STORE_ROOTS)"]
    at = app(store=f"{store_path}/../../{Path(triple_store).parent.name}/{Path(triple_store).name}")
    assert len(at.error) == 1 and "outside the folders" in at.error[0].value
    no_errors(app())
