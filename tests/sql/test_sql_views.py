"""The views hold the store's metadata and the right per-pair figures; subsets and examples work."""
from __future__ import annotations

import json
import threading

import numpy as np
import pandas as pd
import pytest

from dashboard.errors import GapscopeError
from dashboard.sql import example_queries, run_query, subset_ids, views
from dashboard.sql.figures import pair_ranks
from dashboard.store import Store


def _brute_ranks(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Similarity and ranks by sorting each row of the full similarity matrix."""
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    sims = a.astype(np.float64) @ b.T.astype(np.float64)
    n = len(a)
    rank_ab = np.array([1 + int(np.sum(np.delete(sims[i], i) > sims[i, i])) for i in range(n)])
    rank_ba = np.array([1 + int(np.sum(np.delete(sims[:, j], j) > sims[j, j])) for j in range(n)])
    return np.diag(sims), rank_ab, rank_ba


def test_view_names_and_columns(store_path):
    assert views(store_path, "synthetic") == {
        "items": ["item_id", "ordinal", "text", "image_ref", "audio_ref", "molecule", "has_thumbnail", "topic"],
        "pairs": ["item_id", "model", "similarity", "rank_image_to_text", "rank_text_to_image"],
        "models": ["name", "family", "modalities", "embedded", "dim", "logit_scale", "source", "config"],
        "datasets": ["name", "modalities", "kind", "source", "description", "items"],
    }


def test_items_view_matches_the_store(store_path):
    frame = run_query(store_path, "synthetic", "SELECT * FROM items ORDER BY ordinal")
    items = Store.open(store_path).items("synthetic")
    assert frame["item_id"].tolist() == items["item_id"].tolist()
    assert frame["text"].tolist() == items["text"].tolist()
    assert frame["ordinal"].tolist() == list(range(120))
    assert frame["topic"].tolist() == [json.loads(x)["topic"] for x in items["extra"]]
    assert frame["has_thumbnail"].all()


def test_extra_fields_become_typed_columns(caption_store):
    frame = run_query(caption_store, "captions", "SELECT item_id, split, score, flag, tags FROM items ORDER BY ordinal")
    assert frame["split"].tolist() == ["train"] * 4 + ["test"] * 3
    assert frame["score"].tolist() == [0.5, 1, 2, 3, 4, 5, 6]
    assert frame["flag"].tolist() == [True, False, True, False, True, False, True]
    assert frame["tags"].tolist()[0] == '["a"]' and frame["tags"].tolist()[-1] == '{"k": 1}'
    assert run_query(caption_store, "captions", "SELECT sum(score) AS s FROM items WHERE split = 'test'")["s"].tolist() == [15.0]


def test_models_and_datasets_views(store_path, caption_store):
    models = run_query(store_path, "synthetic", "SELECT name, dim, logit_scale, embedded FROM models ORDER BY name")
    assert models["name"].tolist() == ["synth-a", "synth-b"]
    assert models["logit_scale"].tolist() == [100.0, 50.0] and models["dim"].tolist() == [16, 16]
    assert [list(e) for e in models["embedded"]] == [["image", "text"]] * 2
    datasets = run_query(caption_store, "captions", "SELECT name, items, modalities FROM datasets")
    assert datasets["name"].tolist() == ["captions"] and datasets["items"].tolist() == [7]
    assert list(datasets["modalities"][0]) == ["image", "text", "audio"]


@pytest.mark.parametrize("model", ["synth-a", "synth-b"])
def test_pairs_view_matches_brute_force_ranks(store_path, model):
    paired = Store.open(store_path).pairs("synthetic", model)
    similarity, rank_it, rank_ti = _brute_ranks(paired.vectors["image"], paired.vectors["text"])
    frame = run_query(store_path, "synthetic", f"SELECT * FROM pairs WHERE model = '{model}'")
    frame = frame.set_index("item_id").loc[paired.item_ids]
    np.testing.assert_allclose(frame["similarity"], similarity, atol=1e-5)
    assert frame["rank_image_to_text"].tolist() == rank_it.tolist()
    assert frame["rank_text_to_image"].tolist() == rank_ti.tolist()


def test_pair_ranks_on_hand_made_vectors():
    a = np.array([[1, 0], [0, 1], [1, 2]], dtype=np.float32)
    b = np.array([[1, 0.1], [1, 0], [0.1, 1]], dtype=np.float32)
    similarity, rank_ab, rank_ba = pair_ranks(a, b)
    np.testing.assert_allclose(similarity, [1 / np.sqrt(1.01), 0, 2.1 / np.sqrt(5 * 1.01)], rtol=1e-5)
    assert rank_ab.tolist() == [2, 3, 1] and rank_ba.tolist() == [1, 3, 2]
    identity = np.eye(50, dtype=np.float32)
    assert pair_ranks(identity, identity * 3)[1].tolist() == [1] * 50


def test_pair_ranks_in_blocks_equal_one_block(monkeypatch):
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(97, 5)), rng.normal(size=(97, 5))
    whole = pair_ranks(a, b)
    monkeypatch.setattr("dashboard.analysis.pairwise.CHUNK", 7)
    blocked = pair_ranks(a, b)
    assert all(np.array_equal(x, y) for x, y in zip(whole[1:], blocked[1:]))


def test_three_modalities_and_a_partial_model(caption_store):
    frame = run_query(caption_store, "captions", "SELECT * FROM pairs ORDER BY model, item_id")
    assert list(frame.columns) == ["item_id", "model", "similarity", "rank_image_to_text", "rank_text_to_image",
                                   "similarity_image_audio", "rank_image_to_audio", "rank_audio_to_image",
                                   "similarity_text_audio", "rank_text_to_audio", "rank_audio_to_text"]
    duo, tri = frame[frame["model"] == "duo"], frame[frame["model"] == "tri"]
    assert len(duo) == 5 and len(tri) == 7
    assert duo["similarity_image_audio"].isna().all() and duo["rank_image_to_text"].between(1, 5).all()
    assert tri["rank_audio_to_text"].between(1, 7).all()


def test_dog_but_not_hot_dog_example(caption_store):
    sql = example_queries()['Captions with "dog" but not "hot dog"']
    assert sorted(subset_ids(caption_store, "captions", sql)) == ["d1", "d2"]


def test_every_example_runs(store_path):
    for caption, sql in example_queries().items():
        frame = run_query(store_path, "synthetic", sql)
        assert len(frame) > 0, caption


def test_subset_ids(store_path):
    assert subset_ids(store_path, "synthetic", "SELECT item_id FROM items WHERE ordinal < 5 ORDER BY ordinal DESC") == ["4", "3", "2", "1", "0"]
    assert len(subset_ids(store_path, "synthetic", "SELECT item_id FROM pairs")) == 120
    with pytest.raises(GapscopeError, match=r"^SQL: a subset query must return an item_id column \(it returns n\)$"):
        subset_ids(store_path, "synthetic", "SELECT count(*) AS n FROM items")


def test_a_changed_store_is_read_again(tmp_path):
    from dashboard.synthetic import build_synthetic_store

    path = str(tmp_path / "store")
    build_synthetic_store(path, n=10, dim=8)
    assert run_query(path, "synthetic", "SELECT count(*) AS n FROM items")["n"].tolist() == [10]
    Store.open(path, read_only=False).add_items("synthetic", pd.DataFrame({"item_id": ["new"], "text": ["a dog"]}))
    assert run_query(path, "synthetic", "SELECT count(*) AS n FROM items")["n"].tolist() == [11]


def test_concurrent_queries_from_threads(store_path):
    results: dict[int, object] = {}

    def work(k: int) -> None:
        try:
            results[k] = run_query(store_path, "synthetic", f"SELECT count(*) AS n FROM items WHERE ordinal < {k * 10}")["n"][0]
        except Exception as exc:  # noqa: BLE001 - recorded and asserted below
            results[k] = exc

    threads = [threading.Thread(target=work, args=(k,)) for k in range(1, 9)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {k: k * 10 for k in range(1, 9)}


def test_precomputed_pair_figures_serve_the_pairs_view_while_they_cover_the_items(tmp_path):
    from dashboard.precompute import precompute
    from dashboard.sql.figures import figures_of, model_figures
    from dashboard.store import artifacts
    from dashboard.synthetic import build_synthetic_store

    store = build_synthetic_store(tmp_path / "store", n=30, dim=8, models=("synth-a",))
    precompute(store, "synthetic", "synth-a", umap=False, tsne=False)
    key = artifacts.pair_figures_key(["image", "text"])
    stored = store.get_frame("synthetic", "synth-a", artifacts.PAIR_FIGURES, key)
    live = figures_of(store.pairs("synthetic", "synth-a"), "synth-a", ["image", "text"])
    pd.testing.assert_frame_equal(stored, live, check_dtype=False)
    marked = stored.assign(rank_image_to_text=999)
    store.put_frame("synthetic", "synth-a", artifacts.PAIR_FIGURES, key, marked)
    query = "SELECT max(rank_image_to_text) AS r, count(*) AS n FROM pairs"
    assert run_query(str(tmp_path / "store"), "synthetic", query).iloc[0].tolist() == [999, 30]
    rng = np.random.default_rng(0)
    store.add_items("synthetic", pd.DataFrame({"item_id": ["new"], "text": ["a new caption"]}))
    for modality in ("image", "text"):
        store.add_embeddings("synthetic", "synth-a", modality, ["new"], rng.normal(size=(1, 8)))
    fresh = model_figures(store, "synthetic", "synth-a", ["image", "text"])
    assert len(fresh) == 31 and fresh["rank_image_to_text"].max() <= 31
    assert run_query(str(tmp_path / "store"), "synthetic", query).iloc[0].tolist()[1] == 31
