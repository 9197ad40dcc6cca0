"""The Explore page: linked heatmap + scatter payload, gap closing, clustering, difference view, projections,
zoom, selection summaries and item details."""
from __future__ import annotations

import base64

import numpy as np
from dash_helpers import array, linked_args, metric, no_errors, published, texts, widget

from dashboard.analysis.closing import close_gaps
from dashboard.analysis.ordering import principal_order
from dashboard.figures.heatmap import AGGREGATED_SIDE
from dashboard.store import Store


def _pairs(store_path: str, model: str, ids: list[str]) -> dict[str, np.ndarray]:
    """Normalised embeddings of some items straight from the store."""
    paired = Store.open(store_path).pairs("synthetic", model, item_ids=ids)
    order = [paired.item_ids.index(i) for i in ids]
    return {m: v[order] / np.linalg.norm(v[order], axis=1, keepdims=True) for m, v in paired.vectors.items()}


def test_linked_view_carries_heatmap_scatter_and_hover_items(app, store_path: str) -> None:
    at = app("explore", n="30")
    no_errors(at)
    args = linked_args(at)
    rows = args["rows"]
    assert len(rows) == 60 and rows[:30] == rows[30:] and args["blockSize"] == 30 and args["blocks"] == 2
    z = array(args["heatmap"]["data"][0]["z"])
    vectors = _pairs(store_path, "synth-a", rows[:30])
    stacked = np.concatenate([vectors["image"], vectors["text"]])
    np.testing.assert_allclose(z, stacked @ stacked.T, atol=1e-5)
    items = published(args["itemsUrl"])
    assert [items[k][0] for k in args["rowIndex"]] == rows
    caption = Store.open(store_path).items("synthetic").set_index("item_id").loc[rows[0], "text"]
    assert items[args["rowIndex"][0]][1] == caption[:120]
    assert published(args["rowsUrl"]) == [items[k] for k in args["rowIndex"]]
    thumbs = dict(published(args["thumbsUrl"]))
    assert sorted(thumbs) == list(range(30)) and thumbs[0].startswith("data:image/png;base64,")
    markers = [t for t in args["scatter"]["data"] if t["mode"] == "markers" and t.get("hoverinfo") != "skip"]
    scatter_ids = [sorted(items[int(i)][0] for i in array(t["customdata"])) for t in markers]
    assert scatter_ids == [sorted(rows[:30])] * 2
    kinds = {t["type"] for t in args["scatter"]["data"]}
    assert kinds == {"scattergl"}


def test_pair_lines_coloured_by_full_space_cosine(app, store_path: str) -> None:
    at = app("explore", n="30")
    traces = linked_args(at)["scatter"]["data"]
    bars = [t for t in traces if t.get("marker", {}).get("showscale")]
    rows = linked_args(at)["rows"][:30]
    vectors = _pairs(store_path, "synth-a", rows)
    cosines = np.einsum("ij,ij->i", vectors["image"], vectors["text"])
    assert bars[0]["marker"]["cmin"] == np.float32(cosines.min()).item() or \
        abs(bars[0]["marker"]["cmin"] - cosines.min()) < 1e-5
    widget(at, "toggle", "Colour lines by pair cosine").set_value(False).run()
    traces = linked_args(at)["scatter"]["data"]
    assert not [t for t in traces if t.get("marker", {}).get("showscale")]
    widget(at, "toggle", "Lines between pairs").set_value(False).run()
    assert all(t["mode"] == "markers" for t in linked_args(at)["scatter"]["data"])


def test_closing_the_gap_changes_the_heatmap(app, store_path: str) -> None:
    at = app("explore", n="30", model="synth-b")
    before = array(linked_args(at)["heatmap"]["data"][0]["z"])
    widget(at, "slider", "Close the modality gap (fraction)").set_value(1.0).run()
    no_errors(at)
    args = linked_args(at)
    after = array(args["heatmap"]["data"][0]["z"])
    pairs = _pairs(store_path, "synth-b", args["rows"][:30])
    closed = close_gaps(pairs)  # the slider at 1 is Amumo's closing, as the toggle it replaced
    stacked = np.concatenate([closed["image"], closed["text"]])
    np.testing.assert_allclose(after, stacked @ stacked.T, atol=1e-5)
    # cross-modal similarities rise when the modalities are moved together
    assert after[:30, 30:].mean() > before[:30, 30:].mean() + 0.1
    assert "gap closed" in linked_args(at)["heatmap"]["layout"]["title"]["text"]
    widget(at, "slider", "Close the modality gap (fraction)").set_value(0.5).run()
    no_errors(at)
    assert at.query_params["closed"] == "0.5"
    half = array(linked_args(at)["heatmap"]["data"][0]["z"])
    shifted = close_gaps(pairs, 0.5)
    stacked = np.concatenate([shifted["image"], shifted["text"]])
    np.testing.assert_allclose(half, stacked @ stacked.T, atol=1e-5)
    assert before[:30, 30:].mean() + 0.01 < half[:30, 30:].mean() < after[:30, 30:].mean() - 0.01
    assert "50% of the gap closed" in linked_args(at)["heatmap"]["layout"]["title"]["text"]


def test_in_modal_difference_view(app) -> None:
    at = app("explore", n="25")
    full = array(linked_args(at)["heatmap"]["data"][0]["z"])
    widget(at, "radio", "Heatmap").set_value("in-modal difference").run()
    no_errors(at)
    args = linked_args(at)
    diff = array(args["heatmap"]["data"][0]["z"])
    np.testing.assert_allclose(diff, full[:25, :25] - full[25:, 25:], atol=1e-5)
    assert args["blocks"] == 1 and args["heatmap"]["data"][0]["zmin"] == -args["heatmap"]["data"][0]["zmax"]


def test_clustering_reorders_the_matrix_and_selects_a_cluster(app) -> None:
    at = app("explore", n="0")
    unclustered = linked_args(at)["rows"]
    at.toggle[[t.label for t in at.toggle].index("Cluster the matrix by similarity")].set_value(True).run()
    widget(at, "number_input", "Clusters (k)").set_value(4).run()
    no_errors(at)
    frame = at.dataframe[0].value
    assert list(frame["cluster"]) == [1, 2, 3, 4] and frame["size"].sum() == 200
    assert all(isinstance(label, str) for label in frame["label"])
    rows = linked_args(at)["rows"]
    assert sorted(rows) == sorted(unclustered) and rows != unclustered
    notes = [a["text"] for a in linked_args(at)["heatmap"]["layout"]["annotations"]]
    assert notes == [label[:28] for label in frame["label"]]
    widget(at, "selectbox", "Select a cluster").set_value(f"2: {frame['label'][1]}").run()
    no_errors(at)
    assert metric(at, "Selected items") == str(frame["size"][1])
    assert "Top caption n-grams" in texts(at)


def test_clustering_on_another_block_and_three_modalities(app, triple_store: str) -> None:
    at = app("explore", store=triple_store, cluster="1", k="3", block="audio_image")
    no_errors(at)
    assert at.dataframe[0].value["size"].sum() == 60
    args = linked_args(at)
    solid = [s for s in args["heatmap"]["layout"]["shapes"] if s["line"].get("dash") != "dot"]
    dotted = [s for s in args["heatmap"]["layout"]["shapes"] if s["line"].get("dash") == "dot"]
    assert args["blocks"] == 3 and len(solid) == 4  # two block boundaries, horizontal and vertical
    assert len(dotted) == 3 * 2 * 2  # 2 cluster boundaries in each of 3 blocks, both directions


def test_projection_widgets(app) -> None:
    at = app("explore", n="50", cx="3", cy="5")
    no_errors(at)
    assert linked_args(at)["scatter"]["layout"]["title"]["text"].startswith("PCA")
    widget(at, "selectbox", "Method").set_value("tsne").run()
    no_errors(at)
    assert linked_args(at)["scatter"]["layout"]["title"]["text"].startswith("t-SNE")  # stored for synth-a
    widget(at, "selectbox", "Model").set_value("synth-b").run()
    assert linked_args(at)["scatter"] is None and "not stored" in at.info[0].value
    [button] = [b for b in at.button if b.label.startswith("Compute t-SNE")]
    button.click().run()
    no_errors(at)
    assert _scatter_count(at) == 100  # 50 pairs, two points each
    widget(at, "toggle", "Lines between pairs").set_value(False).run()  # the computed projection stays
    assert _scatter_count(at) == 100 and not [b for b in at.button if b.label.startswith("Compute")]


def _scatter_count(at) -> int:
    """Number of marker points in the linked scatter."""
    traces = linked_args(at)["scatter"]["data"]
    return sum(len(array(t["customdata"])) for t in traces if t["mode"] == "markers" and "customdata" in t)


def test_aggregated_heatmap_in_principal_order_and_zoom(app, big_store: str) -> None:
    at = app("explore", store=big_store, n="0")
    no_errors(at)
    args = linked_args(at)
    z = array(args["heatmap"]["data"][0]["z"])
    title = args["heatmap"]["layout"]["title"]["text"]
    assert z.shape == (AGGREGATED_SIDE, AGGREGATED_SIDE) and "block means" in title and "PC 1" in title
    ids = published(args["itemsUrl"])
    paired = Store.open(big_store).pairs("synthetic", "synth-a")
    vectors = {m: v / np.linalg.norm(v, axis=1, keepdims=True) for m, v in paired.vectors.items()}
    order = principal_order(list(vectors.values()))
    assert ids[args["rowIndex"][0]][0] == paired.item_ids[order[0]]
    row_of = np.frombuffer(base64.b64decode(args["rowOf"]), dtype="<u2")
    position = {item: k for k, (item, _) in enumerate(ids)}
    assert row_of[position[paired.item_ids[order[0]]]] == 0
    heading = published(args["rowsUrl"])
    assert len(heading) == AGGREGATED_SIDE and heading == [ids[k] for k in args["rowIndex"]]
    assert row_of[position[paired.item_ids[order[-1]]]] == AGGREGATED_SIDE // 2 - 1
    assert args["zoomable"] is True
    zoomed = app("explore", store=big_store, n="0", zoom="350-700")
    no_errors(zoomed)
    args = linked_args(zoomed)
    assert array(args["heatmap"]["data"][0]["z"]).shape == (700, 700) and args["blockSize"] == 350
    assert args["zoomable"] is False
    assert [published(args["itemsUrl"])[k][0] for k in args["rowIndex"][:350]] == \
        [paired.item_ids[i] for i in order[350:]]
    [back] = [b for b in zoomed.button if b.label == "Show all items"]
    back.click().run()
    assert "zoom" not in zoomed.query_params and linked_args(zoomed)["zoomable"] is True


def test_selection_from_url_shows_summary(app) -> None:
    at = app("explore", sel="1,2,3,999")
    no_errors(at)
    assert metric(at, "Selected items") == "3"
    assert at.image, "example thumbnails are shown"
    [clear] = [b for b in at.button if b.label == "Clear selection"]
    clear.click().run()
    assert not [m for m in at.metric if m.label == "Selected items"]
    assert "sel" not in at.query_params


def test_item_details_with_image_audio_and_molecule(app, media_store: str) -> None:
    at = app("explore", store=media_store, item="m0")
    no_errors(at)
    assert "Item m0" in texts(at) and "molecule caption 0" in texts(at)
    assert len(at.get("audio")) == 1
    assert len(at.image) == 2  # the image file and the molecule drawing
    widget(at, "text_input", "Show item (id)").set_value("m1").run()
    assert not at.exception
    assert len(at.error) == 1 and "not a valid SMILES" in at.error[0].value
    widget(at, "text_input", "Show item (id)").set_value("missing").run()
    assert "not in dataset" in at.warning[0].value


def test_exports_are_offered(app) -> None:
    at = app("explore", n="20")
    labels = [b.label for b in at.main.download_button]
    assert {"Heatmap (HTML)", "Heatmap data (CSV)", "Scatter (HTML)", "Scatter data (CSV)"} <= set(labels)
    assert sorted(b.label for b in at.sidebar.download_button) == ["CSV", "JSON"]  # the subset's items


def test_umap_out_of_sample_on_demand(app) -> None:
    at = app("explore", n="40", proj="umap_oos")
    assert "not stored" in at.info[0].value and linked_args(at)["scatter"] is None
    [button] = [b for b in at.button if b.label.startswith("Compute UMAP out-of-sample")]
    button.click().run(timeout=300)
    no_errors(at)
    assert _scatter_count(at) == 80
    assert linked_args(at)["scatter"]["layout"]["title"]["text"].startswith("UMAP out-of-sample")
