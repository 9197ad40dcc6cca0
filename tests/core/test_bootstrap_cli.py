"""`gapscope metrics --bootstrap`: the "ci" key mirrors the metrics object; precompute stores the intervals."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from dashboard.cli import main
from dashboard.intervals import DEFAULT_B
from dashboard.precompute import precompute
from dashboard.store import artifacts
from dashboard.synthetic import build_synthetic_store

SCALARS = ("gap_distance", "loss", "alignment", "matched_cosine", "unmatched_cosine", "relative_gap")


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real store of 150 image-text-audio pairs embedded by one synthetic model."""
    path = tmp_path_factory.mktemp("bootstrap") / "store"
    build_synthetic_store(path, n=150, dim=16, models=("synth-a",), modalities=("image", "text", "audio"))
    return path


def metrics(store: Path, capsys: pytest.CaptureFixture, *extra: str) -> dict:
    """`gapscope metrics` on the store, parsed."""
    assert main(["metrics", "--store", str(store), "--dataset", "synthetic", "--model", "synth-a", *extra]) == 0
    return json.loads(capsys.readouterr().out)


def test_bootstrap_adds_an_interval_for_every_figure(store_path: Path, capsys: pytest.CaptureFixture) -> None:
    result = metrics(store_path, capsys, "--bootstrap", "120", "--confidence", "0.9", "--seed", "4")
    assert result["bootstrap"]["B"] == 120 and result["bootstrap"]["confidence"] == 0.9
    assert result["bootstrap"]["seed"] == 4 and "percentile" in result["bootstrap"]["method"]
    ci = result["ci"]
    for name in SCALARS:
        lo, hi = ci[name]
        assert lo <= result[name] <= hi, name
    assert set(ci["gap_distances"]) == set(result["gap_distances"]) == {"image_text", "image_audio", "text_audio"}
    for pair, value in result["gap_distances"].items():
        assert ci["gap_distances"][pair][0] <= value <= ci["gap_distances"][pair][1], pair
    assert set(ci["recall_at_k"]) == set(result["recall_at_k"]) and len(ci["recall_at_k"]) == 6
    for direction, recalls in result["recall_at_k"].items():
        for k, value in recalls.items():
            lo, hi = ci["recall_at_k"][direction][k]
            assert 0.0 <= lo <= value <= hi <= 1.0, (direction, k)
    assert set(ci["uniformity"]) == {"image", "text", "audio"}
    narrower = metrics(store_path, capsys, "--bootstrap", "120", "--confidence", "0.5", "--seed", "4")["ci"]
    assert narrower["loss"][1] - narrower["loss"][0] < ci["loss"][1] - ci["loss"][0]


def test_without_bootstrap_there_is_no_ci(store_path: Path, capsys: pytest.CaptureFixture) -> None:
    result = metrics(store_path, capsys)
    assert "ci" not in result and "bootstrap" not in result


@pytest.mark.parametrize("options,needle", [(["--bootstrap", "-3"], "B=-3"), (["--bootstrap", "10", "--confidence",
                                                                                "1.2"], "confidence")])
def test_bad_bootstrap_options_are_one_line_errors(store_path: Path, capsys: pytest.CaptureFixture,
                                                   options: list[str], needle: str) -> None:
    code = main(["metrics", "--store", str(store_path), "--dataset", "synthetic", "--model", "synth-a", *options])
    error = capsys.readouterr().err
    assert code == 2 and needle in error and error.count("\n") == 1


def test_precompute_stores_the_intervals(tmp_path: Path) -> None:
    store = build_synthetic_store(tmp_path / "store", n=60, dim=16, models=("synth-a",))
    precompute(store, "synthetic", "synth-a", umap=False, tsne=False)
    summary = store.get_json("synthetic", "synth-a", artifacts.METRICS, "summary")
    assert summary["bootstrap"]["B"] == DEFAULT_B == 200
    lo, hi = summary["ci"]["gap_distance"]
    assert lo <= summary["gap_distance"] <= hi
    assert summary["ci"]["recall_at_k"]["image_to_text"]["1"][0] <= summary["recall_at_k"]["image_to_text"]["1"]
