"""bench/gpu_check.sh runs here on its CPU path (tiny model, a few images, no install), so it cannot rot."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from dashboard.store import Store

REPO = Path(__file__).resolve().parents[2]
N = 10


def test_gpu_check_script_ingests_every_image_and_names_the_bottleneck(tmp_path, clip_spec):
    env = {**os.environ, "N": str(N), "MODEL": clip_spec, "PRETRAINED": "", "DEVICE": "cpu", "PRECISIONS": "fp32",
           "BATCH": "4", "WORKERS": "1", "DRAFT": "224", "WORK": str(tmp_path), "INSTALL": "0",
           "PYTHON": sys.executable, "PYTHONPATH": str(REPO)}
    done = subprocess.run(["bash", str(REPO / "bench" / "gpu_check.sh")], env=env, cwd=REPO, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    rate = re.search(rf"fp32: {N} images in [\d.]+ s = ([\d.]+) images/s end to end", done.stdout)
    assert rate and float(rate.group(1)) > 0, done.stdout
    assert "fp32: GPU utilisation n/a (no nvidia-smi)" in done.stdout
    assert re.search(r"fp32: ms/batch .*; bottleneck: (decoding \(1 workers, CPU\)|the model \(GPU\)|store writes)",
                     done.stdout), done.stdout
    report = json.loads((tmp_path / "report-fp32.json").read_text())
    assert report["embedded"] == N and report["bad_count"] == 0 and report["timing"]["batches"] == 3
    store = Store.open(tmp_path / "store-fp32")
    ids, vectors = store.embeddings(report["dataset"], report["model"], "image")
    assert sorted(ids, key=int) == [str(k) for k in range(N)] and vectors.shape == (N, 32)
    assert len(list((tmp_path / "data" / "img").glob("*.jpg"))) == N
