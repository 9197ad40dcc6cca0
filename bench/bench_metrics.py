"""Time of gap + loss + recall + clustering + PCA on N random pairs of 512-d float32 embeddings.

Targets: all metrics for N = 5000 under 1 s on the 2-core CI machine; `gapscope metrics` (compute_metrics with the
CLI's defaults: Amumo clustering) at N = 100,000 under 30 s. Run: .venv/bin/python bench/bench_metrics.py
(`--sizes 100000 --repeats 1 --no-amumo` for the 100k figure). "gemm floor" is the raw library doing the products
alone: float32 BLAS x @ y^T over all N^2 pairs in large row blocks with BLAS's own threads, no other work; "gemm
tiles" the same products in scan's cache-sized tiles and worker threads (dashboard.analysis.tiles); "loss+recall"
and "compute_metrics" give their wall and CPU time as multiples of the floor's (the N^2 products cannot be avoided:
the loss needs every logit, the exact ranks every comparison; at 512-d that is 1e13 flop at N = 100,000, about 75 s
on 2 AVX2 cores, so the 30 s target is below the floor).
Prints one line per (N, step) with the best of `repeats` runs (wall time, and CPU time of the process, which is
less distorted when other jobs share the cores), then the total. "loss+recall" is symmetric InfoNCE
over all pairs at once and Recall@1/5/10 both ways from one pass over the logits, as `compute_metrics` does it;
"cluster" is the default method
(k-means on pair vectors); Amumo's complete linkage is timed separately ("cluster_amumo": exact O(N^2) linkage up
to 5000 items, sampled approximation beyond; see dashboard/analysis/clustering.py).
"""

import argparse
import os
import time

import numpy as np

from dashboard.analysis.clustering import amumo_clusters_from_embeddings, kmeans_clusters
from dashboard.analysis import pairwise, tiles
from dashboard.analysis.gap import gap_distance
from dashboard.analysis.projection import project_modalities
from dashboard.metrics import compute_metrics, loss_and_recalls

STEPS = {
    "gap": lambda a, b: gap_distance(a, b),
    "loss+recall": lambda a, b: loss_and_recalls({"a": a, "b": b}, ["a", "b"], "infonce", 100.0, None),  # one pair
    "cluster": lambda a, b: kmeans_clusters(a, b, 10),
    "pca": lambda a, b: project_modalities([a, b], "pca"),
}


FLOOR_ENTRIES = 1 << 25


def pairs(n: int, dim: int = 512, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n random pairs: b is a noisy copy of a, both float32."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, dim)).astype(np.float32)
    return a, (a + rng.normal(size=(n, dim)).astype(np.float32))


def best_time(step, a: np.ndarray, b: np.ndarray, repeats: int) -> tuple[float, float]:
    """Fastest of `repeats` runs: (wall seconds, CPU seconds of this process, all threads)."""
    best = (np.inf, np.inf)
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        step(a, b)
        best = min(best, (time.perf_counter() - wall, time.process_time() - cpu))
    return best


def gemm_floor(a: np.ndarray, b: np.ndarray) -> None:
    """The raw library alone: the N^2 float32 products x @ y^T in row blocks of FLOOR_ENTRIES values, BLAS threads."""
    step = max(1, min(2048, FLOOR_ENTRIES // len(a)))
    for start in range(0, len(a), step):
        a[start:start + step] @ b.T


def gemm_tiles(a: np.ndarray, b: np.ndarray) -> None:
    """The same products in scan's tiles and threads (dashboard.analysis.tiles), nothing else."""
    grid = tiles.grid(len(a), pairwise.CHUNK, pairwise.TILE_ENTRIES)
    for _ in tiles.ordered(lambda t: (a[t[0]:t[1]] @ b[t[2]:t[3]].T).shape, grid, tiles.workers(len(a))):
        pass


TARGET_NOTE = ("; target < 30 s is below the floor: the loss needs all N^2 logits and exact ranks every"
               " comparison, so the product's 1e13 flop (~75 s on 2 AVX2 cores) cannot be cut")


def ratios(seconds, floor) -> str:
    """Wall and CPU time as multiples of the GEMM floor's."""
    return f"  ({seconds[0] / floor[0]:.2f} x floor wall, {seconds[1] / floor[1]:.2f} x floor cpu)"


def report(n: int, name: str, seconds, note: str = "") -> None:
    """One output line: wall and CPU time."""
    print(f"N={n:>6} {name:<16} wall {seconds[0]:8.3f} s   cpu {seconds[1]:8.3f} s{note}")


def main() -> None:
    """Print the timings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,5000,20000", help="comma-separated N")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--amumo", action=argparse.BooleanOptionalAction, default=True,
                        help="also time Amumo's clustering")
    args = parser.parse_args()
    print(f"cpus={os.cpu_count()} load_average={os.getloadavg()[0]:.2f}")
    for n in map(int, args.sizes.split(",")):
        a, b = pairs(n)
        repeats = args.repeats if n <= 5000 else 1
        total, floor = np.zeros(2), best_time(gemm_floor, a, b, repeats)
        report(n, "gemm floor", floor)
        report(n, "gemm tiles", best_time(gemm_tiles, a, b, repeats), "  (the products in scan's tiles and threads)")
        for name, step in STEPS.items():
            seconds = best_time(step, a, b, repeats)
            total += seconds
            report(n, name, seconds, ratios(seconds, floor) if name == "loss+recall" else "")
        report(n, "ALL METRICS", total, "  (target < 1 s)" if n == 5000 else "")
        seconds = best_time(lambda x, y: compute_metrics({"a": x, "b": y}, ["a", "b"], 100.0, None), a, b, 1)
        report(n, "compute_metrics", seconds, f"{ratios(seconds, floor)}; everything, Amumo clustering as the CLI"
                                              f"{TARGET_NOTE if n == 100_000 else ''}")
        if args.amumo:
            report(n, "cluster_amumo", best_time(lambda x, y: amumo_clusters_from_embeddings(y, x, 10), a, b, 1))


if __name__ == "__main__":
    main()
