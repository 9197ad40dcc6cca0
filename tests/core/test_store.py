"""The store: LanceDB vectors + DuckDB metadata, idempotent writes, read-only opening that changes nothing."""
import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dashboard.errors import GapscopeError
from dashboard.store import Store
from dashboard.synthetic import build_synthetic_store


def digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_read_only_open_changes_nothing(tmp_path: Path) -> None:
    build_synthetic_store(tmp_path / "s", n=50, dim=8)
    before = digest(tmp_path / "s")
    store = Store.open(tmp_path / "s")
    store.datasets(), store.models(), store.coverage(), store.items("synthetic", thumbnails=True)
    store.pairs("synthetic", "synth-a")
    store.search("synthetic", "synth-a", np.ones(8), k=3, modality="text")
    with pytest.raises(GapscopeError, match="read-only"):
        store.add_dataset("x", ["image"])
    assert digest(tmp_path / "s") == before


def test_writes_are_idempotent_and_ordered(tmp_path: Path) -> None:
    store = Store.create(tmp_path / "s")
    store.add_dataset("d", ["image", "text"])
    assert store.add_items("d", pd.DataFrame({"item_id": ["b", "a"], "text": ["B", "A"], "score": [1.5, 2.5]})) == 2
    assert store.add_items("d", pd.DataFrame({"item_id": ["a", "c"], "text": ["A2", "C"]})) == 1
    items = store.items("d")
    assert items["item_id"].tolist() == ["b", "a", "c"]
    assert items["text"].tolist() == ["B", "A", "C"]
    store.add_model("m", ["image", "text"], 3, 50.0)
    rng = np.random.default_rng(1)
    first = rng.normal(size=(3, 3)).astype(np.float32)
    store.add_embeddings("d", "m", "image", ["c", "a", "b"], first)
    store.add_embeddings("d", "m", "image", ["c", "a", "b"], rng.normal(size=(3, 3)))
    store.add_embeddings("d", "m", "text", ["a", "b"], rng.normal(size=(2, 3)))
    ids, vectors = store.embeddings("d", "m", "image")
    assert ids == ["b", "a", "c"]
    np.testing.assert_array_equal(vectors, first[[2, 1, 0]])
    paired = store.pairs("d", "m")
    assert paired.item_ids == ["b", "a"]
    assert paired.vectors["image"].shape == paired.vectors["text"].shape == (2, 3)
    counts = store.coverage().set_index("modality")["count"].to_dict()
    assert counts == {"image": 3, "text": 2}


def test_extra_columns_and_artifacts_roundtrip(tmp_path: Path) -> None:
    store = build_synthetic_store(tmp_path / "s", n=20, dim=8)
    extra = store.items("synthetic")["extra"].iloc[0]
    assert '"topic"' in extra
    frame = pd.DataFrame({"item_id": ["0"], "x": [1.0]})
    store.put_frame("synthetic", "synth-a", "projection", "pca:gap", frame)
    pd.testing.assert_frame_equal(store.get_frame("synthetic", "synth-a", "projection", "pca:gap"), frame)
    store.put_json("synthetic", "synth-a", "metrics", "summary", {"gap": 0.5})
    assert store.get_json("synthetic", "synth-a", "metrics", "summary") == {"gap": 0.5}
    assert store.get_json("synthetic", "synth-a", "metrics", "missing") is None


def test_dataset_modalities_cannot_change(tmp_path: Path) -> None:
    store = build_synthetic_store(tmp_path / "s", n=10, dim=8)
    with pytest.raises(GapscopeError, match="already in the store"):
        store.add_dataset("synthetic", ["image", "audio"])


def test_search_finds_the_item_itself(tmp_path: Path) -> None:
    store = build_synthetic_store(tmp_path / "s", n=100, dim=16)
    ids, vectors = store.embeddings("synthetic", "synth-a", "image")
    hits = store.search("synthetic", "synth-a", vectors[7], k=5, modality="image")
    assert hits["item_id"].iloc[0] == ids[7]
    assert set(hits["modality"]) == {"image"}


def test_paired_ids_are_the_pairs_ids_read_without_the_vectors(tmp_path: Path) -> None:
    store = Store.create(tmp_path / "s")
    store.add_dataset("d", ["image", "text"])
    order = np.random.default_rng(4).permutation(400)
    store.add_items("d", pd.DataFrame({"item_id": [f"i{k}" for k in order], "text": ["t"] * 400}))
    store.add_model("m", ["image", "text"], 8, 10.0)
    vectors = np.random.default_rng(5).normal(size=(400, 8)).astype(np.float32)
    for start in range(0, 400, 150):  # fragments out of item order; every 7th item has no text
        ids = [f"i{k}" for k in range(start, min(400, start + 150))]
        store.add_embeddings("d", "m", "image", ids, vectors[start:start + 150])
        texts = [i for i in ids if int(i[1:]) % 7]
        store.add_embeddings("d", "m", "text", texts, vectors[[int(i[1:]) for i in texts]])
    paired = store.pairs("d", "m")
    assert store.paired_ids("d", "m") == paired.item_ids
    assert len(paired.item_ids) == sum(1 for k in range(400) if k % 7)
    assert store.paired_ids("d", "m", ["image"]) == [f"i{k}" for k in order]


def test_embeddings_read_in_batches_equal_the_whole_table_reordered(tmp_path: Path, monkeypatch) -> None:
    from dashboard.analysis.similarity import normalize
    from dashboard.store import vectors as vector_tables

    store = Store.create(tmp_path / "s")
    store.add_dataset("d", ["image", "text"])
    n = 1000
    order = np.random.default_rng(2).permutation(n)
    store.add_items("d", pd.DataFrame({"item_id": [f"i{k}" for k in order], "text": ["t"] * n}))
    store.add_model("m", ["image", "text"], 16, 10.0)
    vectors = np.random.default_rng(3).normal(size=(n, 16)).astype(np.float32)
    for start in range(0, n, 300):  # several fragments, appended out of item order
        store.add_embeddings("d", "m", "image", [f"i{k}" for k in range(start, min(n, start + 300))],
                             vectors[start:start + 300])
    monkeypatch.setattr(vector_tables, "READ_BATCH_ROWS", 7)
    _, batches = store._vectors.read_batches(store._table("d", "m"), "image")
    assert max(len(batch) for batch in batches) == 7
    ids, got = store.embeddings("d", "m", "image")
    assert ids == [f"i{k}" for k in order]
    np.testing.assert_array_equal(got, vectors[order])
    _, unit = store.embeddings("d", "m", "image", transform=normalize)
    np.testing.assert_array_equal(unit, normalize(vectors[order]))
    assert unit.dtype == np.float32


def test_some_pairs_read_only_the_items_asked_for(tmp_path: Path, monkeypatch) -> None:
    from dashboard.analysis.similarity import normalize
    from dashboard.store import vectors as vector_tables

    store = Store.create(tmp_path / "s")
    store.add_dataset("d", ["image", "text"])
    store.add_items("d", pd.DataFrame({"item_id": [f"i{k}" for k in range(300)], "text": ["t"] * 300}))
    store.add_model("m", ["image", "text"], 8, 10.0)
    vectors = np.random.default_rng(6).normal(size=(300, 8)).astype(np.float32)
    store.add_embeddings("d", "m", "image", [f"i{k}" for k in range(300)], vectors)
    store.add_embeddings("d", "m", "text", [f"i{k}" for k in range(0, 300, 2)], vectors[::2] * 2)
    monkeypatch.setattr(vector_tables, "FILTER_KEYS", 7)  # several filters
    wanted = [f"i{k}" for k in (250, 3, 4, 100, 17, 18, 0, 299, 298, 42)] + ["absent"]
    some = store.some_pairs("d", "m", wanted, transform=lambda v, m: normalize(v, m))
    assert some.item_ids == [i for i in wanted if i != "absent" and int(i[1:]) % 2 == 0]
    rows = [int(i[1:]) for i in some.item_ids]
    np.testing.assert_allclose(some.vectors["image"], normalize(vectors[rows]), rtol=1e-6)
    np.testing.assert_allclose(some.vectors["text"], normalize(vectors[rows]), rtol=1e-6)
    assert store.some_pairs("d", "m", ["absent"]).item_ids == []


def test_a_snapshot_keeps_the_records_it_read_and_hands_out_copies(tmp_path: Path) -> None:
    writer = Store.create(tmp_path / "s")
    writer.add_dataset("d", ["image", "text"], description="first")
    writer.add_model("m", ["image", "text"], 4, 10.0)
    snapshot, live = Store.open(tmp_path / "s", snapshot=True), Store.open(tmp_path / "s")
    assert snapshot.dataset("d")["description"] == live.dataset("d")["description"] == "first"
    assert snapshot.model("m")["logit_scale"] == 10.0
    snapshot.dataset("d")["modalities"].append("audio")  # a copy: the snapshot's record is unchanged
    writer.add_dataset("d", ["image", "text"], description="second")
    writer.add_model("m", ["image", "text"], 4, 20.0)
    assert snapshot.dataset("d") == {**live.dataset("d"), "description": "first"}
    assert (snapshot.model("m")["logit_scale"], live.model("m")["logit_scale"]) == (10.0, 20.0)
    assert Store.open(tmp_path / "s", snapshot=True).model("m")["logit_scale"] == 20.0
    with pytest.raises(GapscopeError, match="dataset 'x': not in store"):
        snapshot.dataset("x")
    assert Store.open(tmp_path / "s", read_only=False, snapshot=True)._records is None  # writers never keep them
