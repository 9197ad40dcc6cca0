"""Bootstrap intervals: coverage on seeded subsamples, replicates equal the metrics of explicit resamples,
determinism across seeds and BLAS kernels, paired differences."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dashboard.analysis import alignment as al
from dashboard.analysis.bootstrap import bootstrap_interval, percentile_interval, resample_counts, weighted_means
from dashboard.analysis.gap import gap_distance
from dashboard.analysis.loss import batch_loss_terms, loss_terms
from dashboard.analysis.pairwise import scan
from dashboard.analysis.relative_gap import relative_gap
from dashboard.analysis.retrieval import ranks_both
from dashboard.analysis.similarity import normalize
from dashboard.errors import GapscopeError
from dashboard.intervals import interval_tree, item_terms, metric_intervals, paired_differences, replicates
from dashboard.metrics import compute_metrics

REPO = Path(__file__).resolve().parents[2]
PAIR = "image_text"


def leaves(tree: dict, prefix: tuple = ()) -> dict[tuple, object]:
    """Every leaf of a nested dict (and of lists of dicts in it) by its path."""
    out = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            out |= leaves(value, prefix + (key,))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for i, item in enumerate(value):
                out |= leaves(item, prefix + (key, i))
        else:
            out[prefix + (key,)] = value
    return out


def at(tree: dict, path: tuple):
    """The value at a path of a nested dict."""
    for key in path:
        tree = tree[key]
    return tree


def pair_set(n: int, seed: int = 0, gap: float = 0.4, dim: int = 16, noise: float = 0.8) -> dict[str, np.ndarray]:
    """n synthetic image-text pairs (float64): a shared latent per item plus noise, text shifted by `gap`."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n, dim))
    shift = np.eye(dim)[0] * gap * np.sqrt(dim)
    image, text = (latent + noise * rng.normal(size=(n, dim)) for _ in range(2))
    return {"image": image, "text": text + shift}


def full_set_values(vectors: dict[str, np.ndarray], scale: float) -> tuple[dict, np.ndarray, dict]:
    """The full set's figures from the analysis functions; loss terms and ranks of every query at the full gallery."""
    x, y = normalize(vectors["image"]), normalize(vectors["text"])
    result = scan(x, y, scale)
    terms, ranks = loss_terms(result, "infonce"), {"image_to_text": result.row_rank, "text_to_image": result.col_rank}
    values = {("gap_distance",): gap_distance(x, y), ("alignment",): al.alignment(x, y),
              ("matched_cosine",): al.matched_cosine(x, y), ("unmatched_cosine",): al.unmatched_cosine(x, y),
              ("relative_gap",): relative_gap(x, y), ("uniformity", "image"): al.uniformity(x),
              ("uniformity", "text"): al.uniformity(y), ("loss",): float(terms.mean())}
    for direction, r in ranks.items():
        values |= {("recall_at_k", direction, str(k)): float(np.mean(r <= k)) for k in (1, 5, 10)}
    return values, terms, ranks


def test_95_percent_intervals_cover_the_full_set_value_in_90_of_100_subsamples() -> None:
    full = pair_set(3000, seed=1)
    values, terms, ranks = full_set_values(full, 10.0)
    rng = np.random.default_rng(7)
    covered, widths, estimates = {p: 0 for p in values}, {p: [] for p in values}, {p: [] for p in values}
    for trial in range(100):
        rows = np.sort(rng.choice(3000, 300, replace=False))
        sample = item_terms({m: v[rows] for m, v in full.items()}, {d: r[rows] for d, r in ranks.items()},
                            {PAIR: terms[rows]}, [("image", "text")])
        ci = metric_intervals(sample, PAIR, 200, 0.95, seed=trial)["ci"]
        for path, target in values.items():
            lo, hi = at(ci, path)
            covered[path] += lo <= target <= hi
            widths[path].append(hi - lo)
        estimates[("gap_distance",)].append(gap_distance(full["image"][rows], full["text"][rows]))
        estimates[("matched_cosine",)].append(al.matched_cosine(full["image"][rows], full["text"][rows]))
    assert all(count >= 90 for count in covered.values()), covered
    for path in (("gap_distance",), ("matched_cosine",)):  # not covering by being needlessly wide either
        ratio = np.mean(widths[path]) / (2 * 1.96 * np.std(estimates[path]))
        assert 0.7 < ratio < 1.5, (path, ratio)


def test_replicates_are_the_metrics_of_the_explicitly_resampled_items() -> None:
    vectors = pair_set(120, seed=2)
    x, y = normalize(vectors["image"]), normalize(vectors["text"])
    row, col = ranks_both(x, y)
    losses = np.arange(120, dtype=np.float64) / 7.0
    terms = item_terms(vectors, {"image_to_text": row, "text_to_image": col}, {PAIR: losses})
    counts = resample_counts(120, 5, seed=3)
    tree = replicates(terms, counts)
    for b in range(5):
        index = np.repeat(np.arange(120), counts[b])
        xs, ys = x[index], y[index]
        assert tree["gap_distances"][PAIR][b] == pytest.approx(gap_distance(xs, ys), abs=1e-12)
        assert tree["alignment"][PAIR][b] == pytest.approx(al.alignment(xs, ys), abs=1e-12)
        assert tree["matched_cosine"][PAIR][b] == pytest.approx(al.matched_cosine(xs, ys), abs=1e-12)
        assert tree["loss"][PAIR][b] == pytest.approx(losses[index].mean(), abs=1e-12)
        assert tree["recall_at_k"]["text_to_image"]["5"][b] == pytest.approx(np.mean(col[index] <= 5), abs=1e-12)
        distinct = index[:, None] != index[None, :]  # pairs of positions holding different items
        assert tree["unmatched_cosine"][PAIR][b] == pytest.approx((xs @ ys.T)[distinct].mean(), abs=1e-12)
        intra = [((1 - z @ z.T) / 2)[distinct].mean() for z in (xs, ys)]
        match = np.mean((1 - np.einsum("ij,ij->i", xs, ys)) / 2)
        assert tree["relative_gap"][PAIR][b] == pytest.approx(match / (np.mean(intra) + match), abs=1e-12)


def test_uniformity_projection_gives_the_interval_of_the_exact_bootstrap() -> None:
    x = normalize(pair_set(400, seed=4)["image"])
    terms = item_terms({"image": x, "text": x[::-1]}, {}, {})
    counts = resample_counts(400, 300, seed=5)
    projected = replicates(terms, counts)["uniformity"]["image"]
    kernel = np.exp(-2.0 * np.maximum(2 - 2 * x @ x.T, 0))
    c = counts.astype(np.float64)
    squares = (c ** 2).sum(axis=1)
    exact = np.log((np.einsum("bi,ij,bj->b", c, kernel, c) - squares) / (400.0 ** 2 - squares))
    lo, hi = percentile_interval(exact)
    width = hi - lo
    assert np.allclose(percentile_interval(projected), (lo, hi), atol=0.1 * width)


def test_same_seed_same_intervals_other_seed_other_intervals_and_each_contains_its_estimate() -> None:
    vectors = pair_set(400, seed=6)
    first = compute_metrics(vectors, ["image", "text"], 10.0, None, bootstrap=100, seed=1)
    again = compute_metrics(vectors, ["image", "text"], 10.0, None, bootstrap=100, seed=1)
    other = compute_metrics(vectors, ["image", "text"], 10.0, None, bootstrap=100, seed=2)
    assert first["ci"] == again["ci"]
    assert first["ci"] != other["ci"]
    assert first["bootstrap"] | {"seed": 2} == other["bootstrap"]
    assert "gap_analysis" in first["ci"]  # its own intervals: tests/analysis/test_gap_analysis.py
    found = {path: v for path, v in leaves(first["ci"]).items() if path[0] != "gap_analysis"}
    assert {path[0] for path in found} == {"gap_distances", "gap_distance", "loss", "recall_at_k", "alignment",
                                           "matched_cosine", "unmatched_cosine", "relative_gap", "uniformity"}
    assert len(found) == 15
    for path, (lo, hi) in found.items():
        assert lo <= at(first, path) <= hi, path
        assert hi > lo, path


def test_intervals_agree_across_blas_kernels_and_threads() -> None:
    code = ("import json, numpy as np; from dashboard.metrics import compute_metrics; "
            "from dashboard.synthetic import synthetic_vectors; "
            "_, v = synthetic_vectors(600, 24, ['image', 'text', 'audio'], seed=8, gap=0.3); "
            "v = {m: a.astype(np.float64) for m, a in v.items()}; "
            "print(json.dumps(compute_metrics(v, ['image', 'text', 'audio'], 20.0, None, bootstrap=200)['ci']))")
    runs = []
    for extra in ({}, {"OPENBLAS_CORETYPE": "Nehalem", "OPENBLAS_NUM_THREADS": "1"}, {"OPENBLAS_NUM_THREADS": "2"}):
        env = {**os.environ, "PYTHONPATH": str(REPO), **extra}
        done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stderr
        runs.append(leaves(json.loads(done.stdout)))
    for other in runs[1:]:
        assert other.keys() == runs[0].keys()
        for path, interval in runs[0].items():  # log-sum-exps may run in float32 BLAS: losses are float-rounded,
            # and so is the renormalisation's part of the ablation curve's resampled gap (dashboard.gap_intervals)
            ablation_gap = path[1:3] == ("ablation", "gap")
            rounded = path == ("loss",) or (path[0] == "gap_analysis" and ("loss" in path or ablation_gap))
            assert np.allclose(other[path], interval, rtol=0, atol=1e-6 if rounded else 1e-9), path


def test_paired_difference_of_a_model_with_itself_is_zero_and_a_planted_difference_is_significant() -> None:
    base, wider = pair_set(500, seed=9, gap=0.3), pair_set(500, seed=9, gap=0.6)
    terms = {name: item_terms(v, {"image_to_text": ranks_both(v["image"], v["text"])[0]}, {})
             for name, v in (("base", base), ("wider", wider))}
    same = paired_differences(terms["base"], terms["base"], 200)
    for path, verdict in leaves(same).items():
        if path[-1] == "interval":
            assert verdict == [0.0, 0.0], path
        elif path[-1] == "difference":
            assert verdict == 0.0, path
        else:
            assert verdict is False, path
    planted = paired_differences(terms["base"], terms["wider"], 200)
    assert planted["gap_distances"][PAIR]["significant"]
    assert planted["gap_distances"][PAIR]["interval"][0] > 0


def test_bad_bootstrap_options_are_one_line_errors() -> None:
    with pytest.raises(GapscopeError, match="confidence"):
        interval_tree({"x": np.arange(5.0)}, {"x": 2.0}, 1.5)
    with pytest.raises(GapscopeError, match="B=0"):
        resample_counts(10, 0)
    small = item_terms(pair_set(30), {}, {})
    with pytest.raises(GapscopeError, match="not the same items"):
        paired_differences(small, item_terms(pair_set(20), {}, {}))


def test_any_statistic_of_the_counts_gets_an_interval() -> None:
    values = np.random.default_rng(11).exponential(size=400)
    mean_of = lambda counts: weighted_means(counts, values)  # noqa: E731
    lo, hi = bootstrap_interval(mean_of, 400, 300, 0.95, seed=2)
    standard_error = values.std() / np.sqrt(400)
    assert lo < values.mean() < hi
    assert (hi - lo) == pytest.approx(2 * 1.96 * standard_error, rel=0.25)


@pytest.mark.parametrize("batch_size", [50, 300])
def test_batched_loss_terms_average_to_the_loss_and_get_an_interval(batch_size: int) -> None:
    vectors = pair_set(630, seed=12)
    result = compute_metrics(vectors, ["image", "text"], 10.0, None, loss="infoloob", batch_size=batch_size,
                             bootstrap=100)
    terms = batch_loss_terms(vectors["image"], vectors["text"], "infoloob", 10.0, batch_size)
    assert np.isnan(terms[(630 // batch_size) * batch_size:]).all()
    assert np.nanmean(terms) == pytest.approx(result["loss"], rel=1e-9)
    lo, hi = result["ci"]["loss"]
    assert lo <= result["loss"] <= hi
