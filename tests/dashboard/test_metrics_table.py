"""One metrics assembly: the Gap page's metrics table and intervals are the metrics object of compute_metrics (the
store's summary artefact for a precomputed model, compute_metrics on the view's pairs for the other)."""
from __future__ import annotations

import numpy as np
import pytest
from dash_helpers import no_errors

from dashboard.analysis.alignment import matched_cosine
from dashboard.analysis.loss import contrastive_loss
from dashboard.analysis.relative_gap import relative_gap
from dashboard.analysis.similarity import normalize
from dashboard.errors import GapscopeError
from dashboard.intervals import DEFAULT_B
from dashboard.metrics import compute_metrics
from dashboard.metrics_table import pair_intervals, pair_rows
from dashboard.store import Store, artifacts
from dashboard.synthetic import synthetic_vectors


def test_rows_lay_out_the_metrics_object_for_every_pair() -> None:
    _, vectors = synthetic_vectors(60, 16, ["image", "text", "audio"], seed=3)
    summary = compute_metrics(vectors, ["image", "text", "audio"], 30.0, None, clusters=4, bootstrap=50)
    table = pair_rows(summary, "m").set_index("pair")
    assert list(table.index) == ["image_text", "image_audio", "text_audio"] and (table["n"] == 60).all()
    for pair, distance in summary["gap_distances"].items():
        assert table.loc[pair, "distance"] == distance
    assert table.loc["text_audio", "R@5 audio→text"] == summary["recall_at_k"]["audio_to_text"]["5"]
    assert table.loc["image_text", "loss"] == summary["loss"]
    for pair, (x, y) in (("image_audio", ("image", "audio")), ("text_audio", ("text", "audio"))):
        a, b = normalize(vectors[x]), normalize(vectors[y])  # every further pair has its own scalars
        assert table.loc[pair, "loss"] == pytest.approx(contrastive_loss(a, b, "infonce", 30.0), rel=1e-6)
        assert table.loc[pair, "relative_gap"] == pytest.approx(relative_gap(a, b), rel=1e-6)
        assert table.loc[pair, "matched_cosine"] == pytest.approx(matched_cosine(a, b), rel=1e-6)
    assert table.loc["text_audio", "loss"] != table.loc["image_audio", "loss"]
    assert np.isnan(pair_intervals(summary)["text_audio"].get("loss", np.nan))  # no interval for further pairs
    assert table.loc["image_audio", "uniformity audio"] == summary["uniformity"]["audio"]
    intervals = pair_intervals(summary)
    assert intervals["image_text"]["loss"] == summary["ci"]["loss"]
    assert intervals["text_audio"]["distance"] == summary["ci"]["gap_distances"]["text_audio"]
    with pytest.raises(GapscopeError, match="no gap distance for pair 'image_video'"):
        pair_rows({**summary, "modalities": ["image", "video"]}, "m")


def test_gap_table_is_the_stored_summary_and_compute_metrics(app, store_path: str) -> None:
    at = app("gap", n="0")
    no_errors(at)
    table = at.dataframe[0].value.set_index("model")
    store = Store.open(store_path)
    stored = store.get_json("synthetic", "synth-a", artifacts.METRICS, "summary")
    assert table.loc["synth-a", "distance"] == stored["gap_distance"] and table.loc["synth-a", "loss"] == stored["loss"]
    lo, hi = stored["ci"]["loss"]
    assert table.loc["synth-a", "loss 95% CI"] == f"[{lo:.3f}, {hi:.3f}]"
    paired = store.pairs("synthetic", "synth-b")
    live = compute_metrics(paired.vectors, ["image", "text"], float(store.model("synth-b")["logit_scale"]), None,
                           clusters=10, bootstrap=DEFAULT_B)
    for column, value in (("distance", live["gap_distance"]), ("loss", live["loss"]),
                          ("R@1 text→image", live["recall_at_k"]["text_to_image"]["1"]),
                          ("alignment", live["alignment"])):
        assert table.loc["synth-b", column] == pytest.approx(value, rel=1e-5, abs=1e-6), column
