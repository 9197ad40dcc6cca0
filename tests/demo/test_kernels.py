"""The committed demo's recalls, ranks and gap distances, for every dataset x model it holds, are the same under every
OpenBLAS kernel, thread count and numpy SIMD dispatch (each run in its own subprocess, since the kernel is chosen
when the library loads)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from dashboard.store import Store
from ingest.demo.refresh import summarised
from tests.demo.conftest import DEMO_STORE, REPO_ROOT

SCRIPT = """
import hashlib, json, sys
from dashboard.metrics import loss_and_recalls
from dashboard.analysis.gap import gap_distance
from dashboard.analysis.pairwise import scan
from dashboard.sql.figures import pair_ranks
from dashboard.store import Store
store, out = Store.open(sys.argv[1]), {}
for dataset, model in (spec.rsplit("/", 1) for spec in sys.argv[2:]):
    v = store.pairs(dataset, model, ["image", "text"]).vectors
    losses, recalls = loss_and_recalls(v, ["image", "text"], "infonce", store.model(model)["logit_scale"], None)
    loss = losses["image_text"]
    _, ab, ba = pair_ranks(v["image"], v["text"])
    out[f"{dataset}/{model}"] = {"recall_at_k": recalls, "gap_distance": gap_distance(v["image"], v["text"]), "loss": loss,
                  "ranks": hashlib.sha256(ab.tobytes() + ba.tobytes()).hexdigest()}
print(json.dumps(out))
"""
AVX = "X86_V3 X86_V4 AVX512_ICL AVX512_SPR"
ENVIRONMENTS = {
    "nehalem-1-thread": {"OPENBLAS_CORETYPE": "Nehalem", "OPENBLAS_NUM_THREADS": "1"},
    "sandybridge": {"OPENBLAS_CORETYPE": "SandyBridge"},
    "haswell-2-threads-no-avx-numpy": {"OPENBLAS_CORETYPE": "Haswell", "OPENBLAS_NUM_THREADS": "2",
                                       "NPY_DISABLE_CPU_FEATURES": AVX},
}


def figures(extra: dict[str, str]) -> dict:
    """The script's figures for every (dataset, model) of the demo in a subprocess with the given environment."""
    specs = [f"{dataset}/{model}" for dataset, model in summarised(Store.open(DEMO_STORE))]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENBLAS", "NPY_", "OMP_"))}
    env |= {"PYTHONPATH": str(REPO_ROOT)} | extra
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(DEMO_STORE), *specs], env=env, cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=600, check=True)
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def default() -> dict:
    """The figures under the default kernel."""
    return figures({})


@pytest.mark.parametrize("name", list(ENVIRONMENTS))
def test_same_ranks_and_gap_under_every_kernel(default, name: str) -> None:
    other = figures(ENVIRONMENTS[name])
    assert set(other) == set(default) and len(default) >= 3 + 4 * 6
    for model, figures_default in default.items():
        assert other[model]["recall_at_k"] == figures_default["recall_at_k"], (name, model)
        assert other[model]["ranks"] == figures_default["ranks"], (name, model)
        assert other[model]["gap_distance"] == pytest.approx(figures_default["gap_distance"], abs=1e-6)
        assert other[model]["loss"] == pytest.approx(figures_default["loss"], rel=1e-5)
