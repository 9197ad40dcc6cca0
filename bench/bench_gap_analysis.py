"""Time of the gap analysis (dashboard.gap_explained: shift vs shape, gap dimensions with the ablation curve,
closing methods, joint clustering, temperature) on N random pairs of 512-d float32 embeddings.

Target: all of it for N = 5000 under 3 s on the 2-core machine. Run: .venv/bin/python bench/bench_gap_analysis.py
Prints the best of `repeats` runs per analysis (wall and process CPU seconds) and the total, and, as the yardstick
of the same run, raw numpy doing the bulk work the analyses cannot avoid: the two d x d covariances with their
eigendecompositions and one full N x N float32 similarity product; the ratio says how far each analysis is from
that floor whatever else shares the cores. The ablation curve, closing table and temperature grid evaluate loss and
R@k on a seeded sample of 1,000 pairs (see their modules). The last line adds the bootstrap intervals
(dashboard/gap_intervals.py, B = 200: every figure, the ablation curve's gap, in-modal structure, V-measure and ARI
included). On a shared machine the wall time follows the load; the process CPU seconds (all threads) do not, so
run it with OPENBLAS_NUM_THREADS=1 to compare CPU with the single-thread target.
"""

import argparse
import os

import numpy as np
from bench_metrics import best_time

from dashboard.analysis.closing_methods import compare_closings
from dashboard.analysis.frechet import shift_or_shape
from dashboard.analysis.gap_dimensions import ablation, gap_location
from dashboard.analysis.joint_clustering import joint_clustering
from dashboard.analysis.similarity import normalize
from dashboard.analysis.temperature import temperature_curve
from dashboard.gap_explained import explain_gap, gap_analysis_with_intervals

SCALE = 100.0
STEPS = {
    "shift_or_shape": lambda a, b: shift_or_shape(a, b),
    "gap_location": lambda a, b: gap_location(a, b),
    "ablation": lambda a, b: ablation(a, b, SCALE),
    "closing": lambda a, b: compare_closings(a, b, SCALE),
    "joint_clustering": lambda a, b: joint_clustering(a, b, 10),
    "temperature": lambda a, b: temperature_curve(a, b, SCALE),
}


def raw_floor(a: np.ndarray, b: np.ndarray) -> None:
    """What numpy alone spends on the unavoidable bulk: two covariances + eigh, one N x N product."""
    for x in (a, b):
        np.linalg.eigh(np.cov(x.astype(np.float64), rowvar=False))
    a @ b.T


def pairs(n: int, dim: int = 512, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n random pairs with a gap: b is a noisy, shifted copy of a; both normalised float32."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, dim)).astype(np.float32) + 0.3
    return normalize(a), normalize(a + rng.normal(size=(n, dim)).astype(np.float32) - 0.3)


def main() -> None:
    """Print the timings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"cpus={os.cpu_count()} load_average={os.getloadavg()[0]:.2f} N={args.n} d={args.dim}")
    a, b = pairs(args.n, args.dim)
    floor = best_time(raw_floor, a, b, args.repeats)
    print(f"{'raw numpy floor':<18} wall {floor[0]:7.3f} s   cpu {floor[1]:7.3f} s")
    for name, step in STEPS.items():
        wall, cpu = best_time(step, a, b, args.repeats)
        print(f"{name:<18} wall {wall:7.3f} s   cpu {cpu:7.3f} s   x{wall / floor[0]:5.1f} of the floor")
    wall, cpu = best_time(lambda x, y: explain_gap(x, y, SCALE), a, b, args.repeats)
    print(f"{'ALL (explain_gap)':<18} wall {wall:7.3f} s   cpu {cpu:7.3f} s   x{wall / floor[0]:5.1f} of the floor"
          f"   (target < 3 s)")
    with_ci = best_time(lambda x, y: gap_analysis_with_intervals(x, y, SCALE, 10, 1.0, 200), a, b, args.repeats)
    print(f"{'ALL + B=200 CIs':<18} wall {with_ci[0]:7.3f} s   cpu {with_ci[1]:7.3f} s   "
          f"x{with_ci[0] / floor[0]:5.1f} of the floor   (intervals add {with_ci[0] - wall:.3f} s wall, "
          f"{with_ci[1] - cpu:.3f} s cpu)")


if __name__ == "__main__":
    main()
