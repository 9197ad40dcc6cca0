"""Overview, Gap, Compare and Augmentations pages: their tables hold the right numbers and their widgets work."""
from __future__ import annotations

import numpy as np
from dash_helpers import array, metric, no_errors, plotly_figures, texts, widget

from dashboard.store import Store


def _gap(store_path: str, dataset: str, model: str, a: str = "image", b: str = "text") -> float:
    """||mean(normalised a) - mean(normalised b)|| straight from the store."""
    vectors = Store.open(store_path).pairs(dataset, model).vectors
    x, y = (v / np.linalg.norm(v, axis=1, keepdims=True) for v in (vectors[a], vectors[b]))
    return float(np.linalg.norm(x.mean(axis=0) - y.mean(axis=0)))


def test_overview_table_chart_and_links(app, store_path: str) -> None:
    at = app()
    no_errors(at)
    table = at.dataframe[-1].value.set_index("model")
    assert list(table.index) == ["synth-a", "synth-b"]
    assert table.loc["synth-a", "source"] == "store" and table.loc["synth-b", "source"] == "computed"
    for model in ("synth-a", "synth-b"):
        assert abs(table.loc[model, "gap_distance"] - _gap(store_path, "synthetic", model)) < 1e-4
    assert {"loss", "R@1", "R@5", "alignment", "uniformity"} <= set(table.columns)
    [figure] = plotly_figures(at)
    assert [t["name"] for t in figure["data"]] == ["gap distance", "loss", "R@1", "R@5", "R@10"]
    assert figure["data"][0]["y"] == ["synth-b", "synth-a"]  # first model on top
    links = [(link.label, link.proto.query_string) for link in at.get("page_link")]
    assert ("Explore", "dataset=synthetic&model=synth-a") in links
    assert ("Compare", "dataset=synthetic&models=synth-b%2Csynth-a") in links
    assert {b.label for b in at.download_button} >= {"CSV", "JSON"}


def test_overview_lists_every_dataset(app, triple_store: str) -> None:
    at = app(store=triple_store)
    no_errors(at)
    table = at.dataframe[-1].value
    assert set(table["dataset"]) == {"triplet"} and len(table) == 2


def test_gap_page_metrics_landscape_and_before_after(app, store_path: str) -> None:
    at = app("gap", n="0")
    no_errors(at)
    table = at.dataframe[0].value.set_index("model")
    assert abs(table.loc["synth-b", "distance"] - _gap(store_path, "synthetic", "synth-b")) < 1e-4
    assert {"loss", "R@1 image→text", "R@1 text→image", "alignment", "relative_gap"} <= set(table.columns)
    figures = plotly_figures(at)
    landscape = figures[0]
    assert {t["name"] for t in landscape["data"]} == {"synth-a", "synth-b"}
    summary = at.dataframe[1].value.set_index("model")
    assert (summary["closed_distance"] < summary["original_distance"]).all()
    heat_before, heat_after = figures[1], figures[3]
    assert heat_before["data"][0]["zmin"] == heat_after["data"][0]["zmin"]  # one colour scale
    assert array(heat_before["data"][0]["z"]).shape == (400, 400)  # 200 pairs x 2 modalities, item by item


def test_gap_page_every_pair_of_three_modalities(app, triple_store: str) -> None:
    at = app("gap", store=triple_store)
    no_errors(at)
    table = at.dataframe[0].value
    assert sorted(set(table["pair"])) == ["image_audio", "image_text", "text_audio"]
    widget(at, "selectbox", "Modality pair").set_value("text_audio").run()
    no_errors(at)
    assert "text and audio" in plotly_figures(at)[0]["layout"]["title"]["text"]


def test_compare_side_by_side_with_one_scale(app) -> None:
    at = app("compare", n="60")
    no_errors(at)
    assert metric(at, "Items compared") == "60"
    figures = plotly_figures(at)
    heatmaps = [f for f in figures if f["data"][0]["type"] == "heatmap"]
    assert len(heatmaps) == 2
    assert heatmaps[0]["data"][0]["zmin"] == heatmaps[1]["data"][0]["zmin"]
    assert heatmaps[0]["data"][0]["zmax"] == heatmaps[1]["data"][0]["zmax"]
    diffs = at.dataframe[1].value
    metrics = at.dataframe[0].value.set_index("model")
    expected = metrics.loc["synth-b", "distance"] - metrics.loc["synth-a", "distance"]
    assert abs(diffs["distance"].iloc[0] - expected) < 1e-9
    disagree = at.dataframe[2].value
    assert list(disagree["spread"]) == sorted(disagree["spread"], reverse=True)
    assert {"cosine synth-a", "cosine synth-b", "text"} <= set(disagree.columns)


def test_compare_shows_the_same_items_in_every_model(app, partial_store: str) -> None:
    at = app("compare", store=partial_store, n="0")
    no_errors(at)
    assert metric(at, "Items compared") == "30"
    heatmaps = [f for f in plotly_figures(at) if f["data"][0]["type"] == "heatmap"]
    assert [array(f["data"][0]["z"]).shape for f in heatmaps] == [(60, 60), (60, 60)]
    assert [f["data"][0]["y"][:3] for f in heatmaps] == [["image · 0", "image · 1", "image · 2"]] * 2
    assert len(at.dataframe[2].value) == 25 and set(at.dataframe[2].value["item_id"]) <= {str(i) for i in range(30)}


def test_compare_shares_the_selection_and_needs_two_models(app) -> None:
    at = app("compare", sel="3,4,5")
    no_errors(at)
    assert metric(at, "Selected items") == "3"
    scatters = [f for f in plotly_figures(at) if f["data"][-1]["type"] == "scattergl"]
    assert len(scatters) == 2
    for figure in scatters:
        chosen = [t for t in figure["data"] if t.get("name", "").endswith("(selected)")]
        assert [sorted(array(t["customdata"]).tolist()) for t in chosen] == [[3, 4, 5]] * 2  # on top, full opacity
        assert all(t["marker"]["opacity"] == 1.0 for t in chosen)
    widget(at, "multiselect", "Models").set_value(["synth-a"]).run()
    assert not at.exception
    assert "Choose two to four models" in at.info[0].value


def test_augmentations_sweep_heatmaps_and_strip(app, sweep_store: str) -> None:
    at = app("augmentations", store=sweep_store, models="synth-a,synth-b")
    no_errors(at)
    assert widget(at, "selectbox", "Augmentation").value == "blur"
    figures = plotly_figures(at)
    assert len(figures) == 2 and [f["layout"]["title"]["text"] for f in figures] == ["synth-a", "synth-b"]
    z = array(figures[0]["data"][0]["z"])
    assert z.shape == (40, 40)
    ids = [f"0:blur:{step:03d}" for step in range(20)]  # the blur sweep in step order
    paired = Store.open(sweep_store).pairs("augment-demo", "synth-a", item_ids=ids)
    order = [paired.item_ids.index(i) for i in ids]
    stacked = np.concatenate([paired.vectors[m][order] for m in ("image", "text")])
    stacked /= np.linalg.norm(stacked, axis=1, keepdims=True)
    np.testing.assert_allclose(z, stacked @ stacked.T, atol=1e-5)
    assert len(at.image) == 1  # one strip of images
    assert "a dog on a bed" in texts(at)
    widget(at, "selectbox", "Augmentation").set_value("rotate").run()
    no_errors(at)
    assert at.query_params["aug"] == "rotate"


def test_augmentations_from_sweep_datasets(app, sweep_store: str) -> None:
    at = app("augmentations", store=sweep_store, src="cat", aug="noise")
    no_errors(at)
    assert widget(at, "selectbox", "Augmentation").options == ["hshift", "noise"]
    [figure] = plotly_figures(at)  # only synth-a embedded these sweeps
    z = array(figure["data"][0]["z"])
    paired = Store.open(sweep_store).pairs("sweep-noise-cat", "synth-a")
    stacked = np.concatenate([paired.vectors[m] for m in ("image", "text")])
    stacked /= np.linalg.norm(stacked, axis=1, keepdims=True)
    np.testing.assert_allclose(z, stacked @ stacked.T, atol=1e-5)
    assert "a ginger cat" in texts(at)


def test_augmentations_on_a_plain_dataset_explains(app) -> None:
    at = app("augmentations", n="30")
    no_errors(at)
    assert "no augmentation sweep" in at.info[0].value


def test_augmentations_shows_the_first_items_of_a_large_plain_dataset_exactly(app, tmp_path) -> None:
    from dashboard.synthetic import build_synthetic_store
    store = build_synthetic_store(tmp_path / "plain", n=700, dim=8)
    at = app("augmentations", store=str(tmp_path / "plain"), models="synth-a")
    no_errors(at)
    assert "first 200 items" in at.info[0].value
    z = array(plotly_figures(at)[0]["data"][0]["z"])
    ids = store.items("synthetic")["item_id"].tolist()[:200]
    paired = store.pairs("synthetic", "synth-a", item_ids=ids)
    order = [paired.item_ids.index(i) for i in ids]
    stacked = np.concatenate([paired.vectors[m][order] for m in ("image", "text")])
    stacked /= np.linalg.norm(stacked, axis=1, keepdims=True)
    np.testing.assert_allclose(z, stacked @ stacked.T, atol=1e-5)  # 400 x 400: every cell, in item order


def test_gap_page_adds_the_sigmoid_loss_of_a_model_with_a_logit_bias(app, tmp_path) -> None:
    from dashboard.analysis.sigmoid_loss import sigmoid_loss
    from dashboard.synthetic import build_synthetic_store
    store = build_synthetic_store(tmp_path / "siglip", n=40, dim=8, models=("siglip", "clip"))
    record = store.model("siglip")
    store.add_model("siglip", record["modalities"], record["dim"], 12.0, family="hf-siglip",
                    config={"logit_bias": -9.5})
    at = app("gap", store=str(tmp_path / "siglip"))
    no_errors(at)
    table = at.dataframe[0].value.set_index("model")
    vectors = Store.open(tmp_path / "siglip").pairs("synthetic", "siglip", ["image", "text"]).vectors
    want = sigmoid_loss(vectors["image"], vectors["text"], 12.0, -9.5)
    assert abs(table.loc["siglip", "sigmoid_loss"] - want) < 1e-6
    assert np.isnan(table.loc["clip", "sigmoid_loss"])
