"""Cost of the bootstrap intervals: B = 200 at N = 5,000 pairs of 512-d float32 embeddings.

Target: under 2 s added to `compute_metrics` on the 2-core machine. Run: .venv/bin/python bench/bench_bootstrap.py
Prints the best of `repeats` runs (wall and CPU seconds of the process) of
- compute_metrics as `gapscope metrics` runs it, without and with bootstrap=B: the added seconds (wall, and CPU,
  which other jobs on the cores distort less) and the ratios;
- the intervals alone from the per-item terms (dashboard.intervals: resample counts, replicates, intervals);
- raw numpy doing the simplest part the naive way: B resampled index vectors, each gathering both modalities and
  taking their means for the gap distance (x[idx].mean(0) - y[idx].mean(0)), against our replicates of the gap
  (one product of the count matrix): a ratio below 1 means ours is faster for the same figure.
"""

import argparse
import time

import numpy as np

from dashboard.analysis.alignment import uniformity_terms
from dashboard.analysis.bootstrap import resample_counts, weighted_sums
from dashboard.intervals import item_terms, metric_intervals
from dashboard.metrics import compute_metrics


def pairs(n: int, dim: int, seed: int = 0) -> dict[str, np.ndarray]:
    """n random image-text pairs: text a noisy copy of image, both float32."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, dim)).astype(np.float32)
    return {"image": a, "text": a + rng.normal(size=(n, dim)).astype(np.float32)}


def best_time(step, repeats: int) -> tuple[float, float]:
    """Fastest of `repeats` runs: (wall seconds, CPU seconds of this process)."""
    best = (np.inf, np.inf)
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        step()
        best = min(best, (time.perf_counter() - wall, time.process_time() - cpu))
    return best


def report(name: str, seconds: tuple[float, float], note: str = "") -> None:
    """One output line."""
    print(f"{name:<34} wall {seconds[0]:7.3f} s   cpu {seconds[1]:7.3f} s{note}")


def naive_gap(x: np.ndarray, y: np.ndarray, b: int, seed: int) -> np.ndarray:
    """Gap distance of b resamples by gathering rows per resample."""
    rng = np.random.default_rng(seed)
    out = np.empty(b)
    for k in range(b):
        idx = rng.integers(0, len(x), size=len(x))
        out[k] = np.linalg.norm(x[idx].mean(axis=0, dtype=np.float64) - y[idx].mean(axis=0, dtype=np.float64))
    return out


def main() -> None:
    """Print the timings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--b", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    vectors, modalities = pairs(args.n, args.dim), ["image", "text"]
    run = lambda b: compute_metrics(vectors, modalities, 100.0, None, bootstrap=b)  # noqa: E731
    plain, full = best_time(lambda: run(0), args.repeats), best_time(lambda: run(args.b), args.repeats)
    print(f"N={args.n} d={args.dim} B={args.b} (shared 2-core machine: read the ratios)")
    report("metrics", plain)
    report(f"metrics --bootstrap {args.b}", full,
           f"   added {full[0] - plain[0]:.3f} s wall ({full[0] / plain[0]:.2f}x), {full[1] - plain[1]:.3f} s cpu "
           f"({full[1] / plain[1]:.2f}x)")
    row = np.arange(args.n) + 1
    terms = item_terms(vectors, {"image_to_text": row, "text_to_image": row}, {"image_text": np.zeros(args.n)},
                       [("image", "text")], {m: uniformity_terms(v) for m, v in vectors.items()})
    x, y = terms.vectors["image"], terms.vectors["text"]
    alone = best_time(lambda: metric_intervals(terms, "image_text", args.b), args.repeats)
    report("intervals from per-item terms", alone, f"   {alone[0] / plain[0]:.2f}x the metrics' wall, "
           f"{alone[1] / plain[1]:.2f}x their cpu")
    ours = best_time(lambda: np.linalg.norm(weighted_sums(resample_counts(args.n, args.b), x - y), axis=1),
                     args.repeats)
    naive = best_time(lambda: naive_gap(x, y, args.b, 0), args.repeats)
    report("gap replicates (count matrix)", ours)
    report("gap replicates (raw numpy gather)", naive, f"   ours / raw = {ours[0] / naive[0]:.2f}")


if __name__ == "__main__":
    main()
