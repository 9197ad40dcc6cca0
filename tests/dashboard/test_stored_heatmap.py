"""The whole dataset's heatmap, PC 1 order and pair cosines are read from the store (dashboard.stored_heatmap) and
equal what the dashboard computes from the embeddings; with them stored, Explore's whole-dataset figures need no
embedding (the vector tables are moved away while they are read), and zooming reads the embeddings in the stored
order."""
from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from dash_helpers import array, linked_args, no_errors

from dashboard.analysis.closing import close_gaps
from dashboard.analysis.ordering import principal_order
from dashboard.errors import GapscopeError
from dashboard.figures.heatmap import similarity_blocks
from dashboard.metrics import compute_metrics
from dashboard.store import artifacts
from dashboard.precompute import precompute
from dashboard.store import Store
from dashboard.stored_heatmap import ORDERING, normalised_pairs, pair_cosine
from dashboard.streamed_heatmap import streamed_heatmap
from dashboard.synthetic import build_synthetic_store
from dashboard.ui import compute, loaders
from dashboard.ui.state import ViewKey

N = 700  # 1,400 heatmap rows: aggregated


def _live(store, model: str, closed: bool, window=None):
    """The heatmap and pair cosines computed from the embeddings, as the dashboard does without stored views."""
    paired = normalised_pairs(store, "synthetic", model)
    blocks = close_gaps(paired.vectors, 1.0) if closed else paired.vectors
    order = principal_order(list(blocks.values()))
    heat = similarity_blocks(blocks, paired.item_ids, order, window, ordering=ORDERING)
    return heat, dict(zip(paired.item_ids, pair_cosine(blocks)))


@pytest.fixture(scope="module")
def stored(tmp_path_factory) -> tuple[str, object]:
    """A synthetic store of two models, precomputed as an ingest leaves it."""
    path = tmp_path_factory.mktemp("stored-heatmap") / "store"
    store = build_synthetic_store(path, n=N, dim=24)
    for model in ("synth-a", "synth-b"):
        precompute(store, "synthetic", model, umap=False, tsne=False)
    return str(path), store


def _same(got, want) -> None:
    """Two heatmaps are the same figure: matrix bit for bit, rows, labels, runs and order name."""
    np.testing.assert_array_equal(got.matrix, want.matrix)
    assert (got.row_items, got.labels, got.run_edges, got.offset, got.ordering, got.aggregated) == \
        (want.row_items, want.labels, want.run_edges, want.offset, want.ordering, want.aggregated)


@pytest.mark.parametrize("closed", [0.0, 1.0])
def test_whole_dataset_heatmap_and_cosines_come_from_the_store_without_embeddings(stored, tmp_path: Path,
                                                                                 closed: float) -> None:
    path, store = stored
    heat, cosines = _live(store, "synth-a", bool(closed))
    kinds = store.artifacts().query("kind == 'heatmap' and model == 'synth-a'")["key"].tolist()
    assert sorted(kinds) == ["compared-ids:synth-b", "compared:synth-b", "matrix:closed", "matrix:gap",
                             "order:closed", "order:gap"]
    version = loaders.store_version(path) + closed + 0.5  # a fresh cache entry for this test's reads
    key = ViewKey.whole(path, version, "synthetic")
    ids = compute.item_ids(key, "synth-a")
    away = tmp_path / "vectors"
    shutil.move(Path(path) / "vectors", away)  # from here on, reading an embedding fails
    try:
        _same(compute.heatmap(key, "synth-a", closed, None, None), heat)
        got = compute.pair_cosines(key, "synth-a", closed)
        assert got.index.tolist() == ids
        np.testing.assert_array_equal(got.to_numpy(), np.array([cosines[i] for i in ids]))
        in_order = [i for run in heat.row_items[:heat.block] for i in run]
        assert [ids[k] for k in compute.stored_positions(key, "synth-a", closed)] == in_order
        if not closed:
            assert compute.principal_ids(key, "synth-a") == in_order
        with pytest.raises(GapscopeError):
            compute.vectors(key, "synth-a")
    finally:
        shutil.move(away, Path(path) / "vectors")


def test_zoom_and_unstored_fractions_are_computed_from_the_embeddings(stored) -> None:
    path, store = stored
    key = ViewKey.whole(path, loaders.store_version(path) + 7.0, "synthetic")
    zoomed, _ = _live(store, "synth-a", False, (100, 400))
    _same(compute.heatmap(key, "synth-a", 0.0, None, (100, 400)), zoomed)
    assert not zoomed.aggregated or zoomed.block < 300
    half = compute.heatmap(key, "synth-a", 0.5, None, None)  # not stored: computed on the half-closed copy
    paired = normalised_pairs(store, "synthetic", "synth-a")
    blocks = close_gaps(paired.vectors, 0.5)
    _same(half, similarity_blocks(blocks, paired.item_ids, principal_order(list(blocks.values())), ordering=ORDERING))


def test_a_stored_order_that_does_not_hold_the_view_is_not_used(stored, tmp_path: Path) -> None:
    path, store = stored
    copy = tmp_path / "copy"
    shutil.copytree(path, copy)
    other = Store.open(copy, read_only=False)
    frame = other.get_frame("synthetic", "synth-a", artifacts.HEATMAP, artifacts.heatmap_key("order"))
    other.put_frame("synthetic", "synth-a", artifacts.HEATMAP, artifacts.heatmap_key("order"), frame.iloc[1:])
    key = ViewKey.whole(str(copy), loaders.store_version(str(copy)), "synthetic")
    assert compute.stored_view(key, "synth-a") is None
    _same(compute.heatmap(key, "synth-a", 0.0, None, None), _live(store, "synth-a", False)[0])
    sampled = ViewKey(path, loaders.store_version(path) + 9.0, "synthetic", n=300)
    assert compute.stored_view(sampled, "synth-a") is None
    assert len(compute.heatmap(sampled, "synth-a", 0.0, None, None).row_items[0]) == 1  # 600 rows: exact


def _zeroed_copy(path: str, where: Path) -> str:
    """A copy of the store whose every embedding is zero (reading one through the dashboard's loader is an error)."""
    shutil.copytree(path, where)
    copy = Store.open(where, read_only=False)
    for model in ("synth-a", "synth-b"):
        table = copy._vectors.open(copy._table("synthetic", model))
        table.update(values={"vector": [0.0] * 24})
    return str(where)


def test_explore_and_gap_draw_the_whole_dataset_without_reading_an_embedding(app, stored, tmp_path: Path) -> None:
    path, store = stored
    zeroed = _zeroed_copy(path, tmp_path / "zeroed")
    with pytest.raises(GapscopeError, match="zero or non-finite"):
        normalised_pairs(Store.open(zeroed), "synthetic", "synth-a")
    explore = app("explore", store=zeroed, n="0")
    no_errors(explore)
    z = array(linked_args(explore)["heatmap"]["data"][0]["z"])
    np.testing.assert_array_equal(z, _live(store, "synth-a", False)[0].matrix)
    no_errors(app("gap", store=zeroed, n="0"))
    zoomed = app("explore", store=zeroed, n="0", zoom="0-100")  # zooming reads the embeddings: here, zeros
    assert any("zero or non-finite" in e.value for e in zoomed.error)


def _in_order(model: str, store, order: list[str], ordering: str):
    """The in-memory block means of `model` on the items of `order`, in that order."""
    paired = normalised_pairs(store, "synthetic", model)
    return similarity_blocks(paired.vectors, paired.item_ids, pd.Index(paired.item_ids).get_indexer(order),
                             ordering=ordering)


def test_compare_reads_each_models_block_means_in_the_others_order_as_streamed_at_precompute(stored,
                                                                                           tmp_path: Path) -> None:
    path, store = stored
    modalities = store.dataset("synthetic")["modalities"]
    keys = set(store.artifacts().query("kind == 'heatmap'")[["model", "key"]].itertuples(index=False, name=None))
    assert {("synth-b", "compared:synth-a"), ("synth-a", "compared:synth-b"),
            ("synth-b", "compared-ids:synth-a"), ("synth-a", "compared-ids:synth-b")} <= keys
    key = ViewKey.whole(path, loaders.store_version(path) + 11.0, "synthetic")
    for first, other in (("synth-a", "synth-b"), ("synth-b", "synth-a")):
        ordering = f"ordered by PC 1 of {first}"
        lead = compute.compared_heatmap(key, first, (first, other))
        _same(lead, replace(_live(store, first, False)[0], ordering=ordering))
        order = [i for run in lead.row_items[:lead.block] for i in run]
        got = compute.compared_heatmap(key, other, (first, other))
        _same(got, streamed_heatmap(store, "synthetic", other, order, modalities, ordering))
        live = _in_order(other, store, order, ordering)
        assert (got.row_items, got.labels, got.ordering) == (live.row_items, live.labels, live.ordering)
        np.testing.assert_allclose(got.matrix, live.matrix, rtol=0, atol=2e-6)
    copy = tmp_path / "tampered"
    shutil.copytree(path, copy)
    writer = Store.open(copy, read_only=False)
    matrix = writer.get_frame("synthetic", "synth-b", artifacts.HEATMAP, artifacts.compared_key("synth-a"))
    writer.put_frame("synthetic", "synth-b", artifacts.HEATMAP, artifacts.compared_key("synth-a"), -matrix)
    tampered = ViewKey.whole(str(copy), loaders.store_version(str(copy)), "synthetic")
    shown = compute.compared_heatmap(tampered, "synth-b", ("synth-a", "synth-b"))  # read from the store
    np.testing.assert_array_equal(shown.matrix, -matrix.to_numpy(np.float32))


def test_compare_streams_the_block_means_of_a_view_the_store_has_no_heatmap_for(stored) -> None:
    path, store = stored
    key = ViewKey(path, loaders.store_version(path) + 12.0, "synthetic", n=600)  # 1,200 rows: aggregated
    first = compute.compared_heatmap(key, "synth-a", ("synth-a", "synth-b"))
    assert first.aggregated
    order = [i for run in first.row_items[:first.block] for i in run]
    assert len(order) == 600
    other = compute.compared_heatmap(key, "synth-b", ("synth-a", "synth-b"))
    live = _in_order("synth-b", store, order, "ordered by PC 1 of synth-a")
    assert (other.row_items, other.labels, other.ordering) == (live.row_items, live.labels, live.ordering)
    np.testing.assert_allclose(other.matrix, live.matrix, rtol=0, atol=2e-6)


def test_metrics_and_landscape_of_an_unsummarised_view_read_only_their_sample(app, stored, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    path, store = stored
    monkeypatch.setattr(compute, "METRICS_SAMPLE", 200)
    monkeypatch.setattr(compute, "LANDSCAPE_PAIRS", 200)  # the same seeded rows as the metrics sample
    key = ViewKey.whole(path, loaders.store_version(path) + 13.0, "synthetic")
    ids = compute.item_ids(key, "synth-a")
    sample = [ids[i] for i in compute.seeded_rows(len(ids), key.seed)]
    assert len(sample) == 200
    copy = tmp_path / "sampled-only"
    shutil.copytree(path, copy)
    writer = Store.open(copy, read_only=False)
    with writer._db(write=True) as con:
        con.execute("DELETE FROM artifacts WHERE (kind = ? AND key = 'summary') OR kind = ?",
                    [artifacts.METRICS, artifacts.LANDSCAPE])
    kept = ", ".join(f"'{i}'" for i in sample)
    for model in ("synth-a", "synth-b"):  # Compare's other heatmap is stored: it reads no whole model either
        writer._vectors.open(writer._table("synthetic", model)).update(where=f"item_id NOT IN ({kept})",
                                                                      values={"vector": [0.0] * 24})
    with pytest.raises(GapscopeError, match="zero or non-finite"):
        normalised_pairs(Store.open(copy), "synthetic", "synth-a")
    for page in ("compare", "gap"):
        no_errors(app(page, store=str(copy), n="0"))
    zeroed = ViewKey.whole(str(copy), loaders.store_version(str(copy)), "synthetic")
    summary = compute.view_summary(zeroed, "synth-a")
    assert (summary["source"], summary["n"]) == ("computed on 200 pairs in view", 200)
    paired = normalised_pairs(store, "synthetic", "synth-a")
    rows = pd.Index(paired.item_ids).get_indexer(sample)
    live = compute_metrics({m: v[rows] for m, v in paired.vectors.items()}, list(paired.vectors),
                           float(store.model("synth-a")["logit_scale"]), None, clusters=10, bootstrap=0)
    assert summary["gap_distance"] == live["gap_distance"] and summary["loss"] == live["loss"]
    assert compute.landscape(zeroed, "synth-a", "image", "text")["source"] == "computed on 200 pairs in view"


def test_a_sampled_view_reads_only_its_own_items_embeddings_and_a_large_one_the_whole(app, stored,
                                                                                       tmp_path: Path) -> None:
    path, store = stored
    version = loaders.store_version(path) + 17.0
    small, large = ViewKey(path, version, "synthetic", n=100), ViewKey(path, version, "synthetic", n=600)
    copy = tmp_path / "sampled-view"
    shutil.copytree(path, copy)
    writer, kept = Store.open(copy, read_only=False), ", ".join(f"'{i}'" for i in compute.view_ids(small))
    for model in ("synth-a", "synth-b"):
        writer._vectors.open(writer._table("synthetic", model)).update(where=f"item_id NOT IN ({kept})",
                                                                      values={"vector": [0.0] * 24})
    for page in ("explore", "gap", "compare"):
        no_errors(app(page, store=str(copy), n="100"))
    paired = normalised_pairs(store, "synthetic", "synth-a")
    for key in (small, large):
        ids, blocks = compute.vectors(key, "synth-a")
        rows = pd.Index(paired.item_ids).get_indexer(ids)
        assert ids == compute.view_ids(key) and len(ids) == key.n
        for m, block in blocks.items():
            np.testing.assert_array_equal(block, paired.vectors[m][rows])
    zeroed = replace(large, store=str(copy), version=loaders.store_version(str(copy)))
    with pytest.raises(GapscopeError, match="zero or non-finite"):
        compute.vectors(zeroed, "synth-a")


def _live_paired(store, first: str, other: str, ids: list[str]) -> list[dict]:
    """Compare's paired-bootstrap rows of `other` against `first` on the sample `ids`, computed from the embeddings."""
    from dashboard.paired_bootstrap import paired_rows, sample_pairs, terms_of

    base, terms = (terms_of(sample_pairs(store, "synthetic", m, ids), float(store.model(m)["logit_scale"]))
                   for m in (first, other))
    return paired_rows(base, terms, other)


def test_compare_reads_the_paired_bootstrap_stored_for_its_sample_and_computes_any_other(stored,
                                                                                       tmp_path: Path) -> None:
    from dashboard.paired_bootstrap import paired_key, sample_ids
    from dashboard.ui import uncertainty

    path, store = stored
    assert {("synth-b", "paired:synth-a"), ("synth-a", "paired:synth-b")} <= set(
        store.artifacts().query("kind == 'metrics'")[["model", "key"]].itertuples(index=False, name=None))
    order = store.items("synthetic")["item_id"].tolist()
    for first, other in (("synth-a", "synth-b"), ("synth-b", "synth-a")):
        live = _live_paired(store, first, other, sample_ids(order, 0))
        assert store.get_json("synthetic", other, artifacts.METRICS, paired_key(first))["rows"] == live
    copy = tmp_path / "tampered"
    shutil.copytree(path, copy)
    writer = Store.open(copy, read_only=False)
    held = writer.get_json("synthetic", "synth-b", artifacts.METRICS, paired_key("synth-a"))
    held["rows"] = [{**row, "difference": row["difference"] + 7.0} for row in held["rows"]]
    writer.put_json("synthetic", "synth-b", artifacts.METRICS, paired_key("synth-a"), held)
    version = loaders.store_version(str(copy))
    shown = uncertainty.paired_table((ViewKey.whole(str(copy), version, "synthetic"), str(copy), version, 0),
                                     ("synth-a", "synth-b"))
    assert shown["difference"].tolist() == [row["difference"] for row in held["rows"]]  # read from the store
    sampled = ViewKey(str(copy), version, "synthetic", n=300, seed=3)
    ids = sample_ids(compute.common_ids(sampled, ("synth-a", "synth-b")), 3)
    got = uncertainty.paired_table((sampled, str(copy), version, 3), ("synth-a", "synth-b"))
    assert got.to_dict("records") == _live_paired(store, "synth-a", "synth-b", ids)  # another sample: live
