"""Resumable and idempotent: kill -9 mid-run then rerun gives every item once with the same embeddings; a second run
adds nothing; the store can be read (read-only) while an ingest writes to it."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from dashboard.errors import GapscopeError
from dashboard.store import Store
from ingest.engine import run_ingest
from ingest_helpers import DIFFUSION

REPO = Path(__file__).resolve().parents[2]
SWEEP = {"items": "0", "steps": 200, "ops": "rotate,noise"}  # enough one-batch commits for a kill to land mid-run
TOTAL = 400


def start_ingest(store: Path, spec: str, batch_size: int) -> subprocess.Popen:
    """`gapscope ingest` of the sweep in a subprocess (own session, so its decoding workers die with it)."""
    command = [sys.executable, "-c", "import sys; from dashboard.cli import main; sys.exit(main(sys.argv[1:]))",
               "ingest", "--store", str(store), "--dataset-type", "augment", "--source", str(DIFFUSION),
               "--model", spec, "--name", "sweep", "--device", "cpu", "--batch-size", str(batch_size),
               "--workers", "2", "--no-precompute", "--no-progress", "--commit-items", "4"]
    command += [f"--option={k}={v}" for k, v in SWEEP.items()]
    return subprocess.Popen(command, cwd=REPO, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def snapshot(store: Path, model: str | None) -> tuple[set[str], dict[str, list[str]]]:
    """Item ids and, per modality, embedded ids, read through a read-only Store (empty while it does not exist).

    Embeddings are read first: the engine writes a batch's items before its embeddings, so every embedded id
    must already be among the items read after them."""
    try:
        opened = Store.open(store, read_only=True)
        models = list(opened.models()["name"]) if model is None else [model]
        embedded = {m: opened.embeddings("sweep", models[0], m)[0] for m in ("image", "text")} if models else {}
        items = set(opened.items("sweep")["item_id"])
    except GapscopeError:
        return set(), {}
    return items, embedded


def embeddings(store: Path, model: str) -> dict[str, tuple[list[str], np.ndarray]]:
    """Both modalities' ids and vectors."""
    opened = Store.open(store)
    return {m: opened.embeddings("sweep", model, m) for m in ("image", "text")}


def reference(tmp_path: Path, spec: str) -> tuple[str, dict]:
    """The sweep ingested in one uninterrupted run in this process."""
    report = run_ingest(tmp_path / "clean", "augment", str(DIFFUSION), spec, name="sweep", device="cpu", batch_size=8,
                        workers=0, progress=False, precompute=False, dataset_options=SWEEP)
    return report.model, embeddings(tmp_path / "clean", report.model)


def test_kill_9_mid_run_then_rerun_embeds_every_item_exactly_once(tmp_path, clip_spec):
    store = tmp_path / "store"
    process = start_ingest(store, clip_spec, batch_size=4)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if len(snapshot(store, None)[1].get("image", [])) >= 8:
            break
        time.sleep(0.1)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL
    partial = snapshot(store, None)[1]["image"]
    assert 8 <= len(partial) < TOTAL
    resumed = start_ingest(store, clip_spec, batch_size=4)
    out, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err.decode()[-2000:]
    model, clean = reference(tmp_path, clip_spec)
    again = embeddings(store, model)
    for modality in ("image", "text"):
        ids, vectors = again[modality]
        assert len(ids) == len(set(ids)) == TOTAL and ids == clean[modality][0]
        np.testing.assert_allclose(vectors, clean[modality][1], atol=1e-5)
    items = Store.open(store).items("sweep")
    assert items["item_id"].tolist() == clean["image"][0] and items["ordinal"].tolist() == list(range(TOTAL))


def test_running_twice_adds_nothing(tmp_path, clip_spec):
    kwargs = dict(name="sweep", device="cpu", batch_size=16, workers=2, progress=False, precompute=False,
                  dataset_options=SWEEP)
    first = run_ingest(tmp_path / "store", "augment", str(DIFFUSION), clip_spec, **kwargs)
    before = Store.open(tmp_path / "store")
    counts, items = before.coverage(), before.items("sweep", thumbnails=True)
    second = run_ingest(tmp_path / "store", "augment", str(DIFFUSION), clip_spec, **kwargs)
    after = Store.open(tmp_path / "store")
    assert first.embedded == TOTAL and second.embedded == 0 and second.already_embedded == TOTAL
    assert after.coverage().equals(counts) and after.items("sweep", thumbnails=True).equals(items)


def test_store_reads_stay_consistent_while_an_ingest_writes(tmp_path, clip_spec):
    store = tmp_path / "store"
    process = start_ingest(store, clip_spec, batch_size=4)
    reads, sizes = 0, set()
    while process.poll() is None:
        items, embedded = snapshot(store, None)
        for ids in embedded.values():
            assert set(ids) <= items and len(ids) == len(set(ids))
        if embedded:
            reads += 1
            sizes.add(len(embedded["image"]))
        time.sleep(0.2)
    assert process.returncode == 0, process.stderr.read().decode()[-2000:]
    assert reads >= 3 and len(sizes) >= 2 and max(sizes) <= TOTAL
    assert len(snapshot(store, None)[1]["image"]) == TOTAL
