"""The front page: per dataset a compact chart of each model, real datasets first, sweeps on their own, links into
Explore, Gap, Compare and Augmentations with the state in the URL, intervals shown when the metrics carry them."""
from __future__ import annotations

import base64
import json
from pathlib import Path
from urllib.parse import parse_qs

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.precompute import precompute
from dashboard.store import Store
from dashboard.synthetic import build_synthetic_store, synthetic_vectors
from ingest.demo.diffusiondb import PAIRS, REFERENCE

REPO_ROOT = Path(__file__).resolve().parents[2]
APP = str(REPO_ROOT / "app.py")
CI = [0.31, 0.47]


def run_overview(store: str | Path) -> AppTest:
    """The default page of app.py on a store, with no exception or error shown."""
    at = AppTest.from_file(APP, default_timeout=300)
    at.query_params["store"] = str(store)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def figures(at: AppTest) -> list[dict]:
    """The plotly figures of the run."""
    return [json.loads(e.proto.spec) for e in at.get("plotly_chart")]


def array(value) -> np.ndarray:
    """A plotly JSON array (plain list or base64 typed array) as floats."""
    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"])).astype(float)
    return np.asarray(value, dtype=float)


def links(at: AppTest) -> list[tuple[str, str, dict]]:
    """(page, label, query) of every page link."""
    return [(link.proto.page, link.label, {k: v[0] for k, v in parse_qs(link.proto.query_string).items()})
            for link in at.get("page_link")]


@pytest.fixture(scope="module")
def mixed_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sweep dataset listed before a real one, and the real one's stored metrics with a gap interval."""
    path = tmp_path_factory.mktemp("overview") / "store"
    store = Store.create(path)
    store.add_dataset("a-sweep", ["image", "text"], kind="sweep")
    items = pd.DataFrame({"item_id": [f"{k:02d}" for k in range(12)], "text": "a cat", "op": "blur",
                          "step": range(12), "source_image": "cat"})
    store.add_items("a-sweep", items)
    build_synthetic_store(path, n=60, dim=16, models=("synth-a",), dataset="z-real")
    _, vectors = synthetic_vectors(12, 16, ["image", "text"], seed=3)
    for modality, matrix in vectors.items():
        store.add_embeddings("a-sweep", "synth-a", modality, items["item_id"].tolist(), matrix)
    precompute(store, "z-real", "synth-a", umap=False, tsne=False)
    summary = store.get_json("z-real", "synth-a", "metrics", "summary")
    store.put_json("z-real", "synth-a", "metrics", "summary", {**summary, "ci": {"gap_distance": CI}})
    return path


def test_real_datasets_first_and_sweeps_grouped(mixed_store: Path) -> None:
    at = run_overview(mixed_store)
    headings = [s.value for s in at.subheader]
    assert headings.index("z-real") < headings.index("Augmentation sweeps")
    assert "a-sweep" not in headings
    [chart] = figures(at)  # the sweep has no chart of its own
    assert chart["data"][0]["y"] == ["synth-a"]
    sweeps = at.dataframe[0].value
    assert sweeps.iloc[0][["dataset", "source image", "augmentation"]].tolist() == ["a-sweep", "cat", "blur"]
    found = [q for page, _, q in links(at) if page == "augmentations"]
    assert found == [{"dataset": "a-sweep", "src": "cat", "aug": "blur", "models": "synth-a",
                      "store": str(mixed_store)}]


def test_gap_interval_drawn_as_error_bar(mixed_store: Path) -> None:
    at = run_overview(mixed_store)
    gap = figures(at)[0]["data"][0]
    value = Store.open(mixed_store).get_json("z-real", "synth-a", "metrics", "summary")["gap_distance"]
    assert array(gap["x"])[0] == pytest.approx(value)
    assert array(gap["error_x"]["array"])[0] == pytest.approx(CI[1] - value)
    assert array(gap["error_x"]["arrayminus"])[0] == pytest.approx(value - CI[0])


def test_demo_front_page_leads_with_the_real_models() -> None:
    at = run_overview(REPO_ROOT / "data" / "demo")
    headings = [s.value for s in at.subheader]
    assert headings[:2] == [PAIRS, "openclipart-heldout"] and "Augmentation sweeps" in headings
    chart = figures(at)[0]["data"][0]
    gaps = dict(zip(chart["y"], array(chart["x"])))
    for model in ("CLIP", "CyCLIP", "CLOOB", "CLOOB_LAION400M"):
        amumo = json.loads((REFERENCE / PAIRS / "similarities" / f"{model}_meta_info.json").read_text())
        assert abs(gaps[model] - amumo["gap_distance"]) < 1e-6
    assert gaps["CLIP"] > 2 * gaps["CLOOB_LAION400M"]  # the article's story: CLIP's large gap, CLOOB's small one
    explore = [q for page, label, q in links(at) if label == "Explore"]
    assert {"dataset": PAIRS, "model": "CLIP", "store": str(REPO_ROOT / "data" / "demo")} in explore
    sweep_tables = [d.value for d in at.dataframe[:-1]]
    assert any(set(t["dataset"]) >= {"Rotated-0_size-100", "VShift-0_size-100"} for t in sweep_tables)
