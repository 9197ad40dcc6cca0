"""Issue 14's gap analyses on synthetic sets with known answers, and their block in the metrics object."""
import json
import subprocess
import sys

import numpy as np
import pytest
from scipy.linalg import sqrtm

from dashboard.analysis.closing_methods import compare_closings, procrustes, split
from dashboard.analysis.frechet import energy_distance, frechet_split, shape_influence, shift_or_shape
from dashboard.analysis.gap_dimensions import ablation, ablation_ks, gap_location, smallest_set
from dashboard.analysis.joint_clustering import joint_clustering
from dashboard.analysis.loss import contrastive_loss
from dashboard.analysis.similarity import normalize
from dashboard.analysis.temperature import temperature_curve
from dashboard.errors import GapscopeError
from dashboard.gap_explained import explain_gap, gap_analysis_with_intervals
from dashboard.gap_intervals import resample_counts
from dashboard.metrics import compute_metrics
from dashboard.precompute import precompute
from dashboard.store import artifacts
from dashboard.synthetic import build_synthetic_store


def planted(n: int = 600, d: int = 32, dim: int = 7, offset: float = 1.5, seed: int = 0):
    """Paired clouds sharing a signal, with a gap of +-offset planted in dimension `dim` only."""
    rng = np.random.default_rng(seed)
    signal = rng.normal(size=(n, d))
    shift = np.zeros(d)
    shift[dim] = offset
    a = normalize(signal + 0.3 * rng.normal(size=(n, d)) + shift)
    b = normalize(signal + 0.3 * rng.normal(size=(n, d)) - shift)
    return a, b


def test_planted_dimension_carries_the_gap_and_removing_it_closes_it() -> None:
    a, b = planted()
    where = gap_location(a, b)
    assert where["dimensions"]["top"][0]["index"] == 7 and where["dimensions"]["top"][0]["share"] > 0.9
    assert where["dimensions"]["count_50"] == 1 and where["directions"]["count_50"] == 1
    assert where["directions"]["top"][0]["share"] > 0.9
    curve = ablation(a, b, 20.0)
    assert curve["k"] == ablation_ks(32) == [0, 1, 2, 4, 8, 16]
    assert curve["gap"][1] < 0.15 * curve["gap"][0]
    assert curve["a_to_b"][1]["1"] >= curve["a_to_b"][0]["1"] - 0.02


def test_smallest_set_reaches_the_level_with_fewest_entries() -> None:
    share = np.array([0.1, 0.5, 0.05, 0.3, 0.05])
    assert smallest_set(share, 0.5).tolist() == [1]
    assert smallest_set(share, 0.9).tolist() == [1, 3, 0]
    assert smallest_set(share, 1.0).tolist() == [1, 3, 0, 2, 4]


def reference_frechet(a: np.ndarray, b: np.ndarray) -> float:
    """The whole Fréchet distance^2 with scipy's general matrix square root."""
    sa, sb = np.cov(a, rowvar=False, bias=True), np.cov(b, rowvar=False, bias=True)
    root = np.real(sqrtm(sa @ sb))
    return float(np.sum((a.mean(0) - b.mean(0)) ** 2) + np.trace(sa + sb - 2 * root))


def test_frechet_split_sums_to_the_whole() -> None:
    rng = np.random.default_rng(1)
    a = rng.normal(size=(500, 6)) @ rng.normal(size=(6, 6))
    b = rng.normal(size=(500, 6)) * np.array([2.0, 1.0, 0.5, 1.0, 3.0, 0.2]) + 0.7
    split_ = frechet_split(a, b)
    assert split_["shift"] + split_["shape"] == pytest.approx(split_["frechet"], rel=1e-12)
    assert split_["frechet"] == pytest.approx(reference_frechet(a, b), rel=1e-8)
    assert split_["shift"] == pytest.approx(float(np.sum((a.mean(0) - b.mean(0)) ** 2)), rel=1e-12)
    assert split_["shape"] > 0.1 and split_["shift_share"] + split_["shape_share"] == pytest.approx(1.0)


def test_identically_shaped_clouds_have_no_shape_term_and_no_centred_energy() -> None:
    rng = np.random.default_rng(2)
    a = rng.normal(size=(400, 8)) @ rng.normal(size=(8, 8))
    offset = rng.normal(size=8)
    result = shift_or_shape(a, a + offset)
    assert result["shape"] == pytest.approx(0.0, abs=1e-8)
    assert result["shift"] == pytest.approx(float(offset @ offset), rel=1e-10)
    assert result["energy"] > 0.1 and result["energy_centred"] == pytest.approx(0.0, abs=1e-9)
    other = rng.normal(size=(400, 8)) * 3.0
    assert energy_distance(a - a.mean(0), other - other.mean(0)) > 0.1


def test_procrustes_recovers_a_planted_rotation_on_held_out_pairs() -> None:
    rng = np.random.default_rng(3)
    a = normalize(rng.normal(size=(400, 16)))
    rotation = np.linalg.qr(rng.normal(size=(16, 16)))[0]
    b = normalize(a @ rotation + 0.01 * rng.normal(size=(400, 16)))
    fit, held = split(400, seed=0)
    assert len(set(fit) & set(held)) == 0 and len(fit) + len(held) == 400
    assert np.abs(procrustes(a[fit], b[fit]) - rotation).max() < 0.02
    methods = compare_closings(a, b, 50.0)["methods"]
    assert methods["procrustes"]["a_to_b"]["1"] == 1.0 and methods["procrustes"]["b_to_a"]["1"] == 1.0
    assert methods["procrustes"]["gap"] < 0.02 and methods["procrustes"]["structure_a"] == pytest.approx(1.0)
    assert methods["original"]["a_to_b"]["1"] < 0.2


def test_closing_methods_close_the_gap_and_fraction_zero_changes_nothing() -> None:
    a, b = planted(seed=4)
    none = compare_closings(a, b, 20.0, fraction=0.0)["methods"]
    for key in ("gap", "loss", "structure_a", "structure_b"):
        assert none["mean_shift"][key] == pytest.approx(none["original"][key], rel=1e-9, abs=1e-12)
    assert none["mean_shift"]["a_to_b"] == none["original"]["a_to_b"]
    full = compare_closings(a, b, 20.0, fraction=1.0)["methods"]
    for method in ("mean_shift", "centring", "whitening"):
        assert full[method]["gap"] < 0.25 * full["original"]["gap"]
    assert full["original"]["structure_a"] == pytest.approx(1.0)
    with pytest.raises(GapscopeError, match="between 0 and 1, got 1.5"):
        compare_closings(a, b, 20.0, fraction=1.5)


def test_pair_in_same_cluster_is_one_for_identical_modalities_and_about_one_over_k_for_unrelated() -> None:
    rng = np.random.default_rng(5)
    a = normalize(rng.normal(size=(3000, 3)))
    same = joint_clustering(a, a.copy(), k=5)
    assert same["pair_same_cluster"] == 1.0 and same["v_measure"] == pytest.approx(1.0)
    assert same["adjusted_rand"] == pytest.approx(1.0) and same["modality_purity"] == 0.5
    unrelated = joint_clustering(a, normalize(rng.normal(size=(3000, 3))), k=5)
    assert unrelated["pair_same_cluster"] == pytest.approx(0.2, abs=0.04)
    assert unrelated["pair_same_cluster"] == pytest.approx(unrelated["chance_same_cluster"], abs=0.03)
    assert abs(unrelated["adjusted_rand"]) < 0.02


def test_a_large_gap_splits_every_joint_cluster_by_modality() -> None:
    a, b = planted(n=800, offset=4.0, seed=6)
    result = joint_clustering(a, b, k=6)
    assert result["pair_same_cluster"] < 0.05 and result["modality_purity"] > 0.95


def test_temperature_curve_matches_the_loss_module_and_entropy_falls() -> None:
    a, b = planted(n=300, seed=7)
    curve = temperature_curve(a, b, 10.0)
    assert curve["scale"][len(curve["scale"]) // 2] == pytest.approx(10.0)
    for scale, loss in zip(curve["scale"], curve["loss"]):
        assert loss == pytest.approx(contrastive_loss(a, b, "infonce", scale), rel=1e-5)
    for direction in ("entropy_a_to_b", "entropy_b_to_a"):
        assert np.all(np.diff(curve[direction]) < 0) and curve[direction][0] < curve["max_entropy"]
    with pytest.raises(GapscopeError, match="positive number"):
        temperature_curve(a, b, 0.0)


def test_gap_analysis_is_seeded_and_json() -> None:
    a, b = planted(n=200, seed=8)
    first = explain_gap(a, b, 20.0, k=4)
    assert first == explain_gap(a, b, 20.0, k=4)
    assert json.loads(json.dumps(first)) == first
    assert explain_gap(a[:5], b[:5], 20.0) is None


def test_metrics_cli_carries_the_gap_analysis(tmp_path) -> None:
    store = build_synthetic_store(tmp_path / "store", n=80, dim=16, models=("synth-a",))
    out = subprocess.run([sys.executable, "-m", "dashboard.cli", "metrics", "--store", str(store.path),
                          "--dataset", "synthetic", "--model", "synth-a", "--json", "--gap-fraction", "0.5"],
                         capture_output=True, text=True, check=True)
    block = json.loads(out.stdout)["gap_analysis"]
    assert {"shift_or_shape", "location", "ablation", "closing", "joint_clustering", "temperature"} <= set(block)
    assert block["closing"]["fraction"] == 0.5
    assert set(block["closing"]["methods"]) == {"original", "mean_shift", "centring", "whitening", "procrustes"}


def test_precomputed_summary_holds_the_gap_analysis(tmp_path) -> None:
    store = build_synthetic_store(tmp_path / "store", n=60, dim=16, models=("synth-a",))
    precompute(store, "synthetic", "synth-a", umap=False, tsne=False)
    stored = store.get_json("synthetic", "synth-a", artifacts.METRICS, "summary")["gap_analysis"]
    paired = store.pairs("synthetic", "synth-a")
    live = compute_metrics(paired.vectors, ["image", "text"], 100.0, None)["gap_analysis"]
    assert stored["shift_or_shape"] == pytest.approx(live["shift_or_shape"])
    assert stored["ablation"]["gap"] == pytest.approx(live["ablation"]["gap"])


def test_gap_table_is_written_from_the_store(tmp_path) -> None:
    store = build_synthetic_store(tmp_path / "store", n=60, dim=16)
    precompute(store, "synthetic", "synth-a", umap=False, tsne=False)
    out = subprocess.run([sys.executable, "-m", "dashboard.cli", "gap-table", "--store", str(store.path),
                          "--dataset", "synthetic"], capture_output=True, text=True, check=True).stdout
    rows = {line.split(" | ")[0].strip("| "): line.split(" | ") for line in out.splitlines() if line.startswith("| synth-")}
    assert set(rows) == {"synth-a", "synth-b"} and "synth-a: store, synth-b: computed" in out
    summary = store.get_json("synthetic", "synth-a", artifacts.METRICS, "summary")
    assert float(rows["synth-a"][1]) == pytest.approx(summary["gap_distance"], abs=5e-4)
    shape = summary["gap_analysis"]["shift_or_shape"]
    assert float(rows["synth-a"][2]) == pytest.approx(shape["shift_share"], abs=5e-3)


def within(values, intervals, path: str = "") -> list[str]:
    """Paths of the figures whose [lo, hi] (mirrored structure) does not contain the estimate."""
    if isinstance(intervals, dict):
        return [p for key, sub in intervals.items()
                for p in within(values[key] if isinstance(values, dict) else values[int(key)], sub, f"{path}.{key}")]
    if intervals and isinstance(intervals[0], (list, dict)):
        return [p for i, (v, sub) in enumerate(zip(values, intervals)) for p in within(v, sub, f"{path}[{i}]")]
    lo, hi = intervals
    return [] if lo - 1e-12 <= values <= hi + 1e-12 else [path]


def test_gap_intervals_mirror_the_block_and_contain_its_figures() -> None:
    a, b = planted(n=500, seed=9)
    block, ci = gap_analysis_with_intervals(a, b, 20.0, 6, 1.0, 100)
    assert block == explain_gap(a, b, 20.0, k=6)
    assert set(ci) == {"shift_or_shape", "location", "ablation", "closing", "joint_clustering", "temperature"}
    assert len(ci["ablation"]["loss"]) == len(block["ablation"]["k"])
    assert len(ci["temperature"]["entropy_a_to_b"]) == len(block["temperature"]["scale"])
    # boundaries: a closed gap's resampled norm (a closing method's, or the curve's once the planted dimension is
    # removed) and a share of 1 sit above / below every replicate
    outside = within(block, ci)
    closed = [f".ablation.gap[{k}]" for k in range(1, len(block["ablation"]["k"]))]
    assert all(".closing.methods." in p and p.endswith(".gap") or ".top[" in p or p in closed for p in outside), outside
    assert ".ablation.gap[0]" not in outside
    lo, hi = ci["shift_or_shape"]["shift"]
    assert 0 < lo < block["shift_or_shape"]["shift"] < hi
    assert ci == gap_analysis_with_intervals(a, b, 20.0, 6, 1.0, 100)[1]
    assert ci != gap_analysis_with_intervals(a, b, 20.0, 6, 1.0, 100, seed=1)[1]


def test_linearised_shape_term_follows_the_exact_resampled_term() -> None:
    rng = np.random.default_rng(10)
    a = rng.normal(size=(300, 5)) @ rng.normal(size=(5, 5))
    b = rng.normal(size=(300, 5)) * np.array([1.0, 2.0, 3.0, 0.5, 1.0]) + 1.0
    influence, base = shape_influence(a, b), frechet_split(a, b)["shape"]
    assert abs(influence.sum()) < 1e-8
    counts = resample_counts(300, 40, seed=0)[1:]
    exact = [frechet_split(a[np.repeat(np.arange(300), c.astype(int))], b[np.repeat(np.arange(300), c.astype(int))])
             ["shape"] for c in counts]
    linear = base + counts @ influence / 300
    assert np.corrcoef(exact, linear)[0, 1] > 0.98


def test_metrics_cli_bootstrap_adds_gap_intervals(tmp_path) -> None:
    store = build_synthetic_store(tmp_path / "store", n=80, dim=16, models=("synth-a",))
    out = subprocess.run([sys.executable, "-m", "dashboard.cli", "metrics", "--store", str(store.path),
                          "--dataset", "synthetic", "--model", "synth-a", "--bootstrap", "50", "--seed", "3"],
                         capture_output=True, text=True, check=True)
    result = json.loads(out.stdout)
    assert result["bootstrap"]["B"] == 50 and result["bootstrap"]["seed"] == 3
    ci = result["ci"]["gap_analysis"]
    lo, hi = ci["joint_clustering"]["pair_same_cluster"]
    assert lo <= result["gap_analysis"]["joint_clustering"]["pair_same_cluster"] <= hi
    assert set(ci["closing"]["methods"]) == set(result["gap_analysis"]["closing"]["methods"])
