"""The run's writer: stage times in the report and the bar's last line, batches grouped into commits, and an
appender that writes each (modality, item) once however often it is given."""
from __future__ import annotations

import json

import numpy as np

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
    assert first.append({"image": (ids[:4], vectors["image"][:4]), "text": (ids[:2], vectors["text"][:2])}) == 6
    assert first.append({"image": (ids[2:], vectors["image"][2:] + 1.0)}) == 2
    again = store.embedding_appender("d", "m")
    assert again.append({m: (ids, vectors[m] + 2.0) for m in ("image", "text")}) == 4
    for modality in ("image", "text"):
        got_ids, got = store.embeddings("d", "m", modality)
        assert sorted(got_ids) == ids
        want = {"image": np.vstack([vectors["image"][:4], vectors["image"][4:] + 1.0]),
                "text": np.vstack([vectors["text"][:2], vectors["text"][2:] + 2.0])}[modality]
        order = [got_ids.index(i) for i in ids]
        np.testing.assert_allclose(got[order], want, atol=1e-6)
