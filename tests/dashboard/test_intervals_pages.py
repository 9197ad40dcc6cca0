"""Gap and Compare pages show bootstrap intervals: the Gap table's interval columns, Compare's paired verdicts."""
from __future__ import annotations

import numpy as np
from dash_helpers import no_errors

from dashboard.analysis.bootstrap import resample_counts
from dashboard.intervals import estimate_tree, every_pair_terms, interval_tree, paired_differences, replicates
from dashboard.store import Store


def parse(text: str) -> tuple[float, float]:
    """"[lo, hi]" as two floats."""
    lo, hi = text.strip("[]").split(",")
    return float(lo), float(hi)


def store_terms(store_path: str, model: str, ids: list[str] | None = None):
    """ItemTerms of a model straight from the store (rows in the store's order, or of `ids`)."""
    store = Store.open(store_path)
    paired = store.pairs("synthetic", model)
    rows = np.arange(len(paired)) if ids is None else np.asarray([paired.item_ids.index(i) for i in ids])
    return every_pair_terms({m: v[rows] for m, v in paired.vectors.items()}, store.model(model)["logit_scale"])


def test_gap_table_has_an_interval_beside_every_metric(app, store_path: str) -> None:
    at = app("gap", n="0")
    no_errors(at)
    table = at.dataframe[0].value.set_index("model")
    for column in ("distance", "loss", "R@1 image→text", "R@5 text→image", "alignment", "uniformity image",
                   "relative_gap", "matched_cosine", "unmatched_cosine"):
        name = f"{column} 95% CI"
        assert list(table.columns).index(name) == list(table.columns).index(column) + 1, column
        for model in table.index:
            lo, hi = parse(table.loc[model, name])
            assert lo - 1e-3 <= table.loc[model, column] <= hi + 1e-3, (model, column)
    terms = store_terms(store_path, "synth-b")
    tree = interval_tree(replicates(terms, resample_counts(terms.n, 200, 0)), estimate_tree(terms), 0.95)
    assert np.allclose(parse(table.loc["synth-b", "distance 95% CI"]), tree["gap_distances"]["image_text"], atol=6e-4)
    assert np.allclose(parse(table.loc["synth-b", "loss 95% CI"]), tree["loss"]["image_text"], atol=6e-4)
    assert "bootstrap" in " ".join(str(c.value) for c in at.caption)


def test_compare_says_which_differences_are_outside_the_paired_interval(app, store_path: str) -> None:
    at = app("compare", n="0")
    no_errors(at)
    paired = at.dataframe[3].value.set_index("metric")
    assert set(paired["model"]) == {"synth-b"} and set(paired["pair"]) == {"image_text"}
    assert {"distance", "loss", "R@1 image→text", "alignment", "unmatched_cosine"} <= set(paired.index)
    diffs, metrics = at.dataframe[1].value, at.dataframe[0].value.set_index("model")
    for model in ("synth-a", "synth-b"):
        lo, hi = parse(metrics.loc[model, "distance 95% CI"])
        assert lo <= metrics.loc[model, "distance"] <= hi, model
    assert abs(paired.loc["distance", "difference"] - diffs["distance"].iloc[0]) < 1e-6  # float32 embeddings
    assert paired.loc["distance", "significant"]  # synth-b's gap is planted twice synth-a's
    lo, hi = parse(paired.loc["distance", "95% CI"])
    assert 0 < lo <= paired.loc["distance", "difference"] <= hi
    ids = [str(i) for i in range(200)]
    verdicts = paired_differences(store_terms(store_path, "synth-a", ids), store_terms(store_path, "synth-b", ids))
    for metric, name in (("matched_cosine", "matched_cosine"), ("relative_gap", "relative_gap")):
        assert bool(paired.loc[metric, "significant"]) == verdicts[name]["image_text"]["significant"], metric
