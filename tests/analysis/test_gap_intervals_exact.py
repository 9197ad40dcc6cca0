"""The gap analysis' intervals of the ablation curve's gap, the in-modal structure kept and the two sides' clustering
agreement: each replicate equals the figure recomputed on the expanded multiset, and each interval contains its
estimate on a well-behaved set."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score, v_measure_score

from dashboard.analysis.closing_methods import cosines, structure_kept
from dashboard.analysis.gap_dimensions import _without
from dashboard.analysis.similarity import normalize
from dashboard.analysis.weighted_figures import adjusted_rand, contingency_tables, pair_pearson, v_measure
from dashboard.gap_explained import explain_gap, gap_analysis_with_intervals
from dashboard.gap_intervals import ablation_gap_replicates, resample_counts

REPO = Path(__file__).resolve().parents[2]


def spread(n: int = 400, d: int = 16, seed: int = 0):
    """Pairs sharing a signal with a gap spread over every dimension (it survives removing the top ones)."""
    rng = np.random.default_rng(seed)
    signal, shift = rng.normal(size=(n, d)), rng.uniform(0.3, 0.6, size=d)
    return (normalize(signal + 0.5 * rng.normal(size=(n, d)) + shift),
            normalize(signal + 0.5 * rng.normal(size=(n, d)) - shift))


def expanded(counts: np.ndarray) -> np.ndarray:
    """Item positions of the multiset with counts[i] copies of item i."""
    return np.repeat(np.arange(len(counts)), counts.astype(int))


def test_new_intervals_contain_their_estimates_on_a_well_behaved_set() -> None:
    a, b = spread()
    block, ci = gap_analysis_with_intervals(a, b, 10.0, 4, 1.0, 100)
    assert len(ci["ablation"]["gap"]) == len(block["ablation"]["k"])
    for estimate, (lo, hi) in zip(block["ablation"]["gap"], ci["ablation"]["gap"]):
        assert lo < estimate < hi
    for method, row in block["closing"]["methods"].items():
        for side in ("structure_a", "structure_b"):
            lo, hi = ci["closing"]["methods"][method][side]
            assert lo - 1e-12 <= row[side] <= hi + 1e-12, (method, side)
            assert hi - lo > 1e-6 or row[side] > 1 - 1e-9, (method, side)  # only a kept geometry has no spread
    for name in ("v_measure", "adjusted_rand"):
        lo, hi = ci["joint_clustering"][name]
        assert lo < block["joint_clustering"][name] < hi, name


def test_clustering_agreement_of_a_resample_is_sklearns_on_the_expanded_multiset() -> None:
    rng = np.random.default_rng(3)
    first = rng.integers(0, 5, size=300)
    second = np.where(rng.random(300) < 0.6, first, rng.integers(0, 4, size=300))
    counts = resample_counts(300, 6, seed=4)
    tables = contingency_tables(counts, first, second)
    ari, v = adjusted_rand(tables), v_measure(tables)
    for row, c in enumerate(counts):
        items = expanded(c)
        assert ari[row] == pytest.approx(adjusted_rand_score(first[items], second[items]), abs=1e-12)
        assert v[row] == pytest.approx(v_measure_score(first[items], second[items]), abs=1e-12)
    assert (ari[0], v[0]) == pytest.approx((adjusted_rand_score(first, second), v_measure_score(first, second)),
                                           abs=1e-12)


def test_agreement_of_identical_and_of_one_cluster_labellings_is_sklearns() -> None:
    labels, one = np.array([0, 0, 1, 1, 2, 2]), np.zeros(6, dtype=int)
    counts = np.array([[1, 1, 1, 1, 1, 1], [2, 0, 0, 3, 1, 0], [0, 6, 0, 0, 0, 0]])
    for second in (labels, one):
        tables = contingency_tables(counts, labels, second)
        for row, c in enumerate(counts):
            items = expanded(c)
            assert adjusted_rand(tables)[row] == pytest.approx(adjusted_rand_score(labels[items], second[items]))
            assert v_measure(tables)[row] == pytest.approx(v_measure_score(labels[items], second[items]))


def test_structure_replicate_is_the_pearson_over_distinct_items_of_the_expanded_multiset() -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(size=(40, 6))
    before, after = cosines(x), cosines(x @ rng.normal(size=(6, 6)) + 0.3)
    counts = resample_counts(40, 4, seed=2)
    replicates = pair_pearson(counts, before, after, 0.0)
    assert replicates[0] == pytest.approx(structure_kept(before, after), abs=1e-12)
    for row, c in enumerate(counts[1:], start=1):
        items = expanded(c)
        p, q = np.triu_indices(len(items), 1)
        distinct = items[p] != items[q]
        old, new = before[items[p], items[q]][distinct], after[items[p], items[q]][distinct]
        assert replicates[row] == pytest.approx(np.corrcoef(old, new)[0, 1], abs=1e-12)


def test_ablation_gap_replicate_is_the_gap_of_the_ablated_resampled_pairs() -> None:
    a, b = spread(n=200, d=8, seed=1)
    keep: dict = {}
    block = explain_gap(a, b, 10.0, k=4, keep=keep)
    x, y = keep["pairs"]
    counts = resample_counts(200, 3, seed=7)
    replicates = ablation_gap_replicates(x, y, counts, block["ablation"]["k"], keep["ablation"])
    # the renormalisation's part runs in float32 (dashboard.gap_intervals): equal to its rounding
    assert replicates[0] == pytest.approx(block["ablation"]["gap"], abs=1e-6)
    for row, c in enumerate(counts[1:], start=1):
        items = expanded(c)
        for column, k in enumerate(block["ablation"]["k"]):
            removed = keep["ablation"]["order"][:k]
            gap = _without(x[items], removed).mean(axis=0) - _without(y[items], removed).mean(axis=0)
            assert replicates[row, column] == pytest.approx(np.linalg.norm(gap), abs=1e-6)


def numbers(tree, path: tuple = ()) -> dict[tuple, float]:
    """Every number of a nested JSON value by its path."""
    if isinstance(tree, dict):
        return {p: v for key, sub in tree.items() for p, v in numbers(sub, path + (key,)).items()}
    if isinstance(tree, list):
        return {p: v for i, sub in enumerate(tree) for p, v in numbers(sub, path + (i,)).items()}
    return {path: tree} if isinstance(tree, (int, float)) and not isinstance(tree, bool) else {}


def test_block_figures_agree_across_blas_kernels_and_threads() -> None:
    code = ("import json, numpy as np; from dashboard.gap_explained import explain_gap; "
            "from dashboard.synthetic import synthetic_vectors; "
            "_, v = synthetic_vectors(600, 24, ['image', 'text'], seed=8, gap=0.3); "
            "print(json.dumps(explain_gap(v['image'], v['text'], 20.0, k=6)))")
    runs = []
    for extra in ({}, {"OPENBLAS_CORETYPE": "Nehalem", "OPENBLAS_NUM_THREADS": "1"}, {"OPENBLAS_NUM_THREADS": "2"}):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENBLAS", "OMP_"))}
        done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env | {"PYTHONPATH": str(REPO)} | extra,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        runs.append(numbers(json.loads(done.stdout)))
    for other in runs[1:]:
        assert other.keys() == runs[0].keys()
        for path, value in runs[0].items():  # losses come from float32 log-sum-exps (pairwise.scan): float-rounded
            assert other[path] == pytest.approx(value, rel=1e-5 if "loss" in path else 0, abs=1e-9), path
