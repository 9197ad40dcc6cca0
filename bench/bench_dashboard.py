"""Dashboard benchmark: page rerun times (Streamlit AppTest), payload sizes and peak memory per store size.

For N = 100, 1k, 5k, 20k, 100k pairs a synthetic store (two models, image/text) is built once into a temporary
folder; each store is then measured in its own worker process, so peak RSS is per store. In a worker every page
(app.py's navigation, switched to the page) runs twice with all N items in view (sample size 0 = all): the first run fills the caches (cold), the second is
the rerun a user waits for after moving a widget (warm). Payload = bytes of the element messages of the warm run
that Streamlit sends to the browser; figures = the part in Plotly charts and the linked-hover component (its
figure JSON, captions and thumbnails). Targets: a page reruns in under 2 s at N = 5,000; under 1 GB peak RSS on
the demo store (data/demo when built, else pass --store).

    .venv/bin/python bench/bench_dashboard.py                 # all sizes
    .venv/bin/python bench/bench_dashboard.py --sizes 100 5000 --store data/demo
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PAGES = ["overview", "explore", "gap", "compare", "augmentations", "sql", "search"]
SIZES = [100, 1_000, 5_000, 20_000, 100_000]
FIGURE_TYPES = {"plotly_chart", "component_instance"}
TARGET_RERUN_S, TARGET_N, TARGET_RSS_MB = 2.0, 5_000, 1024


def _payload(app) -> tuple[int, int]:
    """(all element bytes, figure bytes) of an AppTest run's element tree."""
    total = figures = 0
    stack = [app._tree]
    while stack:
        node = stack.pop()
        stack.extend(getattr(node, "children", {}).values())
        proto = getattr(node, "proto", None)
        if proto is None or not hasattr(proto, "ByteSize"):
            continue
        size = proto.ByteSize()
        total += size
        if getattr(node, "type", "") in FIGURE_TYPES:
            figures += size
    return total, figures


def _run_page(store: str, page: str, sample: int, timeout_s: float) -> dict:
    """Cold and warm run times, payload and errors of one page."""
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(str(REPO / "app.py"), default_timeout=timeout_s)
    app.query_params.update({"store": store, "n": str(sample)})
    app.switch_page(f"pages/{page}.py")
    start = time.perf_counter()
    app.run()
    cold = time.perf_counter() - start
    start = time.perf_counter()
    app.run()
    warm = time.perf_counter() - start
    total, figures = _payload(app)
    problems = [e.value for e in app.exception] + [e.value for e in app.error]
    return {"page": page, "cold_s": cold, "warm_s": warm, "payload_kb": total / 1024, "figures_kb": figures / 1024,
            "errors": [str(p).splitlines()[0][:120] for p in problems]}


def worker(store: str, sample: int, timeout_s: float) -> None:
    """Measure every page on one store; print one JSON line per page, then the peak RSS."""
    os.chdir(REPO)
    sys.path.insert(0, str(REPO))
    for page in PAGES:
        if (REPO / "pages" / f"{page}.py").is_file():
            try:
                print(json.dumps(_run_page(store, page, sample, timeout_s)), flush=True)
            except Exception as exc:  # noqa: BLE001 - a page that fails is reported, the others still run
                print(json.dumps({"page": page, "errors": [f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}"]}), flush=True)
    print(json.dumps({"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}), flush=True)


def build(root: Path, n: int, dim: int) -> tuple[str, float]:
    """A synthetic store of n pairs and the seconds it took to build."""
    from dashboard.synthetic import build_synthetic_store

    start = time.perf_counter()
    build_synthetic_store(root / f"n{n}", n=n, dim=dim)
    return str(root / f"n{n}"), time.perf_counter() - start


def measure(store: str, sample: int, timeout_s: float) -> tuple[list[dict], float | None]:
    """Run a worker process on a store; its page rows and peak RSS (MB)."""
    command = [sys.executable, __file__, "--worker", store, "--sample", str(sample), "--timeout", str(timeout_s)]
    env = dict(os.environ, PYTHONPATH=str(REPO), HF_HUB_OFFLINE="1")
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout_s * (len(PAGES) + 1))
        lines = done.stdout
    except subprocess.TimeoutExpired as exc:
        lines = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
    rows = [json.loads(line) for line in lines.splitlines() if line.startswith("{")]
    rss = next((r["peak_rss_mb"] for r in rows if "peak_rss_mb" in r), None)
    return [r for r in rows if "page" in r], rss


def report(label: str, rows: list[dict], rss: float | None) -> None:
    """Print one store's table."""
    print(f"\n{label}  (peak RSS {'%.0f MB' % rss if rss else 'n/a'})")
    print(f"  {'page':<14}{'cold s':>9}{'rerun s':>9}{'payload KB':>12}{'figures KB':>12}  errors")
    for r in rows:
        if "warm_s" in r:
            print(f"  {r['page']:<14}{r['cold_s']:>9.2f}{r['warm_s']:>9.2f}{r['payload_kb']:>12.0f}{r['figures_kb']:>12.0f}  "
                  + "; ".join(r["errors"]))
        else:
            print(f"  {r['page']:<14}{'failed':>9}  " + "; ".join(r["errors"]))


def main() -> None:
    """Build the stores, measure each in a worker, print the tables and the targets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=SIZES)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--sample", type=int, default=0, help="items in view (0 = all, the hardest case)")
    parser.add_argument("--store", default=str(REPO / "data" / "demo"), help="the demo store, for the memory target")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per page run")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.sample, args.timeout)
        return
    sys.path.insert(0, str(REPO))
    results = {}
    with tempfile.TemporaryDirectory(prefix="gapscope-bench-") as tmp:
        for n in args.sizes:
            store, seconds = build(Path(tmp), n, args.dim)
            rows, rss = measure(store, args.sample, args.timeout)
            report(f"N = {n:,} pairs, dim {args.dim}, {'all' if not args.sample else args.sample} in view "
                   f"(store built in {seconds:.1f} s)", rows, rss)
            results[n] = rows
    if Path(args.store, "meta.duckdb").is_file():
        rows, rss = measure(args.store, 0 if args.sample == 0 else args.sample, args.timeout)
        report(f"demo store {args.store}", rows, rss)
        print(f"\nmemory target: peak RSS {rss:.0f} MB on the demo store (target < {TARGET_RSS_MB} MB): "
              f"{'met' if rss and rss < TARGET_RSS_MB else 'NOT met'}")
    else:
        print(f"\nno demo store at {args.store} (build it with `make demo-data`); peak RSS per store is printed above")
    if TARGET_N in results:
        slow = [r["page"] for r in results[TARGET_N] if r.get("warm_s", 1e9) >= TARGET_RERUN_S]
        print(f"rerun target at N = {TARGET_N:,}: every page under {TARGET_RERUN_S} s: "
              f"{'met' if not slow else 'NOT met (' + ', '.join(slow) + ')'}")


if __name__ == "__main__":
    main()
