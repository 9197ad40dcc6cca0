"""AppTest of pages/search.py: by item (each modality, target, k), by typed text (tiny CLIP), and every refusal."""
from __future__ import annotations

import numpy as np

from dashboard.store import Store


def _ok(app) -> None:
    """The page ran without an exception or error."""
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]


def _results(app):
    return app.dataframe[0].value


def test_default_is_the_first_items_neighbours(page, store_path):
    app = page("search", model="synth-a")
    _ok(app)
    frame = _results(app)
    assert len(frame) == 10 and app.metric[0].value == "10"
    first = frame.iloc[0].to_dict()
    assert first | {"similarity": round(first["similarity"], 4)} == {
        "rank": 1, "item_id": "0", "modality": "image", "similarity": 1.0,
        "text": Store.open(store_path).items("synthetic")["text"][0], "is_query": True}
    assert frame["similarity"].is_monotonic_decreasing and set(frame["modality"]) <= {"image", "text"}
    assert len(app.get("image")) == 10 and {"search_export_csv", "search_export_json"} <= {b.key for b in app.get("download_button")}


def test_item_modality_target_and_k(page, store_path):
    app = page("search", model="synth-a")
    app.selectbox(key="w_sitem").select("7").run()
    app.selectbox(key="w_sfrom").select("text").run()
    app.selectbox(key="w_sto").select("image").run()
    app.number_input(key="w_sk").set_value(3).run()
    _ok(app)
    frame = _results(app)
    assert len(frame) == 3 and set(frame["modality"]) == {"image"}
    paired = Store.open(store_path).pairs("synthetic", "synth-a")
    query = paired.vectors["text"][paired.item_ids.index("7")]
    images = paired.vectors["image"] / np.linalg.norm(paired.vectors["image"], axis=1, keepdims=True)
    sims = images @ (query / np.linalg.norm(query))
    best = [paired.item_ids[i] for i in np.argsort(-sims)[:3]]
    assert frame["item_id"].tolist() == best
    np.testing.assert_allclose(frame["similarity"], np.sort(sims)[::-1][:3], atol=1e-5)
    url = {k: (v[0] if isinstance(v, list) else v) for k, v in app.query_params.items()}
    assert {"sitem": "7", "sfrom": "text", "sto": "image", "sk": "3"}.items() <= url.items()


def test_an_item_without_embeddings_is_reported(page):
    app = page("search", sitem="orphan", model="synth-a")
    assert not app.exception
    assert app.error[0].value == "item 'orphan': has no image embedding from model 'synth-a' in dataset 'synthetic'"


def test_an_empty_subset_is_a_warning(page):
    app = page("search", q="no caption has this")
    assert not app.exception and "no items in view" in app.warning[0].value


def test_text_query_for_a_model_without_a_loadable_encoder(page):
    app = page("search", sby="text", model="synth-a")
    _ok(app)
    assert "unknown family 'synthetic'" in app.info[0].value and not app.dataframe
    app = page("search", sby="text", model="image-only")
    assert app.info[0].value == "model 'image-only': has no text modality, so it cannot embed a typed query"
    assert app.selectbox(key="w_sto").options == ["all modalities", "image"]


def test_typed_text_query_with_the_models_text_encoder(page):
    app = page("search", sby="text", model="tiny-clip")
    _ok(app)
    assert "type a text to search" in [c.value for c in app.caption] and not app.dataframe
    app.text_input(key="w_stext").input("a cat number 999").run()
    app.selectbox(key="w_sto").select("text").run()
    _ok(app)
    frame = _results(app)
    exact = frame[frame["similarity"] > 0.9999]
    assert len(exact) >= 1 and exact["text"].str.match(r"^a cat number \d+$").all()
    assert set(frame["modality"]) == {"text"} and not frame["is_query"].any()
