"""The run's writer: stage times in the report and the bar's last line, batches grouped into commits, and an
appender that writes each (modality, item) once however often it is given."""
from __future__ import annotations

import json

import numpy as np
import pytest

from dashboard.errors import GapscopeError
from dashboard.store import Store
from ingest.datasets import open_dataset
from ingest.local_engine import ingest_source
from ingest.plan import Options
from ingest_helpers import TinyEncoder, build_generic

N = 12


def test_a_run_reports_stage_times_and_groups_batches_into_fewer_commits(tmp_path, capsys):
    root = build_generic(tmp_path / "g", n=N)
    options = Options(batch_size=2, workers=0, progress=True, precompute=False)
    report = ingest_source(tmp_path / "store", open_dataset("generic", str(root)), TinyEncoder, "generic", str(root),
                           options=options)
    timing = json.loads(open(report.report_path).read())["timing"]
    assert report.embedded == N and timing["batches"] == N // 2
    assert 1 <= timing["commits"] < timing["batches"]
    assert set(timing["ms_per_batch"]) == {"decode", "wait", "model", "write"}
    assert timing["ms_per_batch"]["decode"] > 0 and timing["ms_per_batch"]["model"] > 0
    assert timing["bottleneck"] in ("decode", "model", "write")
    last = capsys.readouterr().err.replace("\r", "\n").strip().splitlines()[-1]
    assert "ms/batch decode" in last and f"{timing['commits']} commits" in last and "bottleneck" in last
    store = Store.open(tmp_path / "store")
    assert store.coverage()["count"].tolist() == [N, N]
    assert store.items(report.dataset)["ordinal"].tolist() == list(range(N))


def test_the_appender_writes_each_key_once_across_calls_and_instances(tmp_path):
    store = Store.create(tmp_path / "store")
    store.add_dataset("d", ["image", "text"])
    store.add_model("m", ["image", "text"], 4)
    rng = np.random.default_rng(0)
    vectors = {m: rng.normal(size=(6, 4)).astype(np.float32) for m in ("image", "text")}
    ids = [f"i{k}" for k in range(6)]
    first = store.embedding_appender("d", "m")
    assert first.append([{"image": (ids[:3], vectors["image"][:3]), "text": (ids[:2], vectors["text"][:2])},
                         {"image": (ids[3:4], vectors["image"][3:4])}]) == 6
    assert first.append([{"image": (ids[2:], vectors["image"][2:] + 1.0)}]) == 2
    again = store.embedding_appender("d", "m")
    assert again.append([{m: (ids, vectors[m] + 2.0) for m in ("image", "text")}]) == 4
    with pytest.raises(GapscopeError, match="occurs twice in one append"):
        again.append([{"text": (ids[:1], vectors["text"][:1])}, {"text": (ids[:1], vectors["text"][:1])}])
    for modality in ("image", "text"):
        got_ids, got = store.embeddings("d", "m", modality)
        assert sorted(got_ids) == ids
        want = {"image": np.vstack([vectors["image"][:4], vectors["image"][4:] + 1.0]),
                "text": np.vstack([vectors["text"][:2], vectors["text"][2:] + 2.0])}[modality]
        order = [got_ids.index(i) for i in ids]
        np.testing.assert_allclose(got[order], want, atol=1e-6)


def test_the_appender_takes_arrow_ids_and_finds_a_repeat_among_them(tmp_path):
    import pyarrow as pa

    store = Store.create(tmp_path / "store")
    store.add_dataset("d", ["text"])
    store.add_model("m", ["text"], 4)
    vectors = np.random.default_rng(1).normal(size=(5, 4)).astype(np.float32)
    ids = pa.array([f"i{k}" for k in range(5)])
    appender = store.embedding_appender("d", "m")
    assert appender.append([{"text": (ids.slice(0, 3), vectors[:3])}, {"text": (ids.slice(3), vectors[3:])}]) == 5
    assert appender.append([{"text": (ids.slice(2), vectors[2:] + 1.0)}]) == 0
    with pytest.raises(GapscopeError, match="occurs twice in one append"):
        appender.append([{"text": (pa.array(["j", "k"]), vectors[:2])}, {"text": (pa.array(["k"]), vectors[:1])}])
    with pytest.raises(GapscopeError, match="item i1 has a NaN"):
        appender.append([{"text": (ids.slice(0, 2), np.where(np.arange(2)[:, None] == 1, np.nan, vectors[:2]))}])
    got_ids, got = store.embeddings("d", "m", "text")
    order = [got_ids.index(f"i{k}") for k in range(5)]
    np.testing.assert_allclose(got[order], vectors, atol=1e-6)


def test_precomputed_vectors_of_consecutive_rows_are_a_view_and_others_gathered(tmp_path):
    from ingest.models.precomputed import load

    vectors = np.arange(24, dtype=np.float32).reshape(6, 4) + 1.0
    np.savez(tmp_path / "v.npz", item_id=np.array([f"i{k}" for k in range(6)]), text=vectors)
    encoder = load(str(tmp_path / "v.npz"), None, "cpu", "auto")
    run = encoder.encode("text", [2, 3, 4])
    assert np.shares_memory(run, encoder.vectors["text"]) and np.array_equal(run, vectors[2:5])
    for rows in ([4, 2, 3], [0, 2], [5], [3, 3]):
        assert np.array_equal(encoder.encode("text", rows), vectors[rows])
    assert encoder.encode("text", []).shape == (0, 4)


def test_items_go_in_from_arrow_once_with_extras_as_json(tmp_path):
    from ingest.base import Record
    from ingest.writer import items_table

    store = Store.create(tmp_path / "store")
    store.add_dataset("d", ["text"])
    records = [Record(f"i{k}", text=f"t{k}", extra={"score": k, "text": "x"}) for k in range(3)]
    thumbnails = [None, b"j", b"j"]
    assert store.append_items("d", items_table(records, np.array([1, 0]), thumbnails[1::-1])) == 2
    assert store.append_items("d", items_table(records, np.arange(3), thumbnails)) == 1
    items = store.items("d", thumbnails=True)
    assert items["item_id"].tolist() == ["i0", "i1", "i2"] and items["ordinal"].tolist() == [0, 1, 2]
    assert json.loads(items["extra"].iloc[2]) == {"score": 2, "extra_text": "x"}
    assert items["thumbnail"].iloc[0] is None or items["thumbnail"].isna().iloc[0]
    assert bytes(items["thumbnail"].iloc[1]) == b"j"


def test_a_registration_commits_several_calls_together_or_not_at_all_and_its_connection_is_kept(tmp_path):
    store = Store.create(tmp_path / "store")
    with store.registration("d") as items:
        store.add_dataset("d", ["text"])
        store.add_model("m", ["text"], 4)
        registered = items.con
    assert items.con is registered and registered is not None
    items.release()
    assert store.datasets()["name"].tolist() == ["d"] and store.models()["name"].tolist() == ["m"]
    with pytest.raises(GapscopeError, match="logit scale"), store.registration("e"):
        store.add_dataset("e", ["text"])
        store.add_model("bad", ["text"], 4, logit_scale=-1.0)
    with pytest.raises(GapscopeError, match="dataset 'f': not in store"), store.registration("f"):
        store.add_model("n", ["text"], 4)
    assert store.datasets()["name"].tolist() == ["d"] and store.models()["name"].tolist() == ["m"]


def test_vector_checks_are_exact_for_huge_and_tiny_rows_and_name_the_bad_item():
    from dashboard.store.validate import check_vectors

    ids = ["a", "b", "c"]
    rows = np.ones((3, 8), dtype=np.float32)
    rows[1] *= 1e30  # squares overflow float32: still a finite vector
    rows[2] *= 1e-30  # squares underflow to zero: still a non-zero vector
    check_vectors("t", ids, rows, 8)
    for value, problem in ((np.nan, "NaN or infinite"), (np.inf, "NaN or infinite"), (0.0, "zero embedding")):
        bad = rows.copy()
        bad[2] = value
        with pytest.raises(GapscopeError, match=f"^t: item c has a {problem}"):
            check_vectors("t", ids, bad, 8)
