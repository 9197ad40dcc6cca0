"""The Gap page's sections explaining the gap (issue 14): decomposition, ablation curve, closing methods with the
fraction slider, joint clustering and temperature, checked against the analyses run on the store's pairs."""
from __future__ import annotations

import pytest
from dash_helpers import no_errors, plotly_figures, widget

from dashboard.analysis.closing_methods import compare_closings
from dashboard.analysis.joint_clustering import joint_clustering
from dashboard.analysis.similarity import normalize
from dashboard.gap_explained import explain_gap
from dashboard.store import Store, artifacts


def frame_with(at, column: str):
    """The first dataframe of the run that has this column."""
    found = [d.value for d in at.dataframe if column in d.value.columns]
    assert found, f"no table with column {column!r}"
    return found[0]


def figure_titled(at, words: str) -> dict:
    """The first figure whose title contains these words."""
    found = [f for f in plotly_figures(at) if words in f["layout"].get("title", {}).get("text", "")]
    assert found, f"no figure titled {words!r}"
    return found[0]


def pairs(store_path: str, model: str):
    """The store's image and text blocks of a model, normalised, and its logit scale."""
    store = Store.open(store_path)
    vectors = store.pairs("synthetic", model).vectors
    return normalize(vectors["image"]), normalize(vectors["text"]), float(store.model(model)["logit_scale"])


def test_gap_page_explains_the_gap(app, store_path: str) -> None:
    at = app("gap", n="0")
    no_errors(at)
    shape = frame_with(at, "energy_centred").set_index("model")
    assert list(shape.index) == ["synth-a", "synth-b"]
    assert shape.loc["synth-a", "source"] == "store" and shape.loc["synth-b", "source"].startswith("computed")
    stored = Store.open(store_path).get_json("synthetic", "synth-a", artifacts.METRICS, "summary")["gap_analysis"]
    assert shape.loc["synth-a", "shape"] == pytest.approx(stored["shift_or_shape"]["shape"], rel=1e-12)
    live = explain_gap(*pairs(store_path, "synth-b"), k=10)
    for column in ("shift", "shape", "energy", "energy_centred"):
        assert shape.loc["synth-b", column] == pytest.approx(live["shift_or_shape"][column], rel=1e-4, abs=1e-7)
    assert (shape["shift"] + shape["shape"] - shape["frechet"]).abs().max() < 1e-12
    summary = Store.open(store_path).get_json("synthetic", "synth-a", artifacts.METRICS, "summary")
    lo, hi = summary["ci"]["gap_analysis"]["shift_or_shape"]["shift"]
    assert shape.loc["synth-a", "shift 95 % CI"] == f"[{lo:.3g}, {hi:.3g}]"
    assert shape.loc["synth-b", "shift 95 % CI"].startswith("[")
    ablation = figure_titled(at, "Removing the top-k")
    lines = [t for t in ablation["data"] if t["xaxis"] == "x"]
    assert [t["name"] for t in lines] == ["synth-a", "synth-b"] and lines[0]["x"][:3] == ["0", "1", "2"]
    assert lines[1]["y"] == pytest.approx(live["ablation"]["gap"], rel=1e-4)
    assert "share of ||g||²" in figure_titled(at, "synth-a: share")["layout"]["title"]["text"]
    temperature = figure_titled(at, "logit scale sits")
    assert temperature["layout"]["xaxis"]["type"] == "log"
    closing = frame_with(at, "structure a")
    assert set(closing["method"]) == {"original", "mean_shift", "centring", "whitening", "procrustes"}
    assert closing["R@1 a→b 95 % CI"].str.startswith("[").all()
    assert closing["structure a 95 % CI"].str.startswith("[").all()
    assert closing["structure b 95 % CI"].str.startswith("[").all()
    curve = frame_with(at, "gap 95 % CI").set_index(["model", "k"])
    assert curve.loc[("synth-b", 0), "gap"] == pytest.approx(live["ablation"]["gap"][0], rel=1e-4)
    stored_ci = summary["ci"]["gap_analysis"]
    for i, k in enumerate(stored["ablation"]["k"]):
        lo, hi = stored_ci["ablation"]["gap"][i]
        assert curve.loc[("synth-a", k), "gap 95 % CI"] == f"[{lo:.3g}, {hi:.3g}]"
    assert curve["loss 95 % CI"].str.startswith("[").all()
    joint = frame_with(at, "adjusted_rand 95 % CI").set_index("model")
    lo, hi = stored_ci["joint_clustering"]["v_measure"]
    assert joint.loc["synth-a", "v_measure 95 % CI"] == f"[{lo:.3g}, {hi:.3g}]"


def test_fraction_slider_and_cluster_count_recompute(app, store_path: str) -> None:
    at = app("gap", n="0")
    widget(at, "slider", "Mean shift: fraction of the gap closed").set_value(0.5).run()
    widget(at, "number_input", "Clusters (k)").set_value(4).run()
    no_errors(at)
    assert at.query_params["gf"] == "0.5" and at.query_params["gk"] == "4"
    a, b, scale = pairs(store_path, "synth-b")
    expected = compare_closings(a, b, scale, 0.5)["methods"]["mean_shift"]
    closing = frame_with(at, "structure a").set_index(["model", "method"])
    row = closing.loc[("synth-b", "mean_shift")]
    assert row["gap"] == pytest.approx(expected["gap"], rel=1e-4) and row["R@1 a→b"] == expected["a_to_b"]["1"]
    full = closing.loc[("synth-b", "original"), "gap"]
    assert expected["gap"] < full
    joint = frame_with(at, "pair_same_cluster").set_index("model")
    assert (joint["k"] == 4).all()
    assert joint.loc["synth-b", "pair_same_cluster"] == pytest.approx(joint_clustering(a, b, 4)["pair_same_cluster"])
    bars = figure_titled(at, "k = 4")
    assert bars["data"][0]["name"] == "pair_same_cluster"
