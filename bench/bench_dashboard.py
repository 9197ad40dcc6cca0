"""Dashboard benchmark: page rerun times (Streamlit AppTest), payload sizes and peak memory per store size.

For N = 100, 1k, 5k, 20k, 100k pairs a synthetic store (two models, image/text) is built once into a temporary
folder. Each page (app.py's navigation, switched to the page) is measured in its own worker process, so the peak
RSS is that of one server session on that page: it runs twice, with all N items in view (sample size 0) and with
the sidebar's default sample of 500; the first run (imports included: a fresh server process) fills the caches,
the second is the rerun a user waits for after moving a widget. A page past --timeout is reported, not waited for. Payload = bytes of the element messages of the warm run
that Streamlit sends to the browser; figures = the part in Plotly charts and the linked-hover component (its
figure JSON, captions and thumbnails). Targets: a page reruns in under 2 s at N = 5,000; under 1 GB peak RSS on
the demo store (data/demo when built, else pass --store).

    .venv/bin/python bench/bench_dashboard.py                 # all sizes
    .venv/bin/python bench/bench_dashboard.py --sizes 100 5000 --samples 0 --store data/demo
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


def worker(store: str, page: str, sample: int, timeout_s: float) -> None:
    """Measure one page on one store in this process; print one JSON line with its peak RSS."""
    os.chdir(REPO)
    sys.path.insert(0, str(REPO))
    try:
        row = _run_page(store, page, sample, timeout_s)
    except Exception as exc:  # noqa: BLE001 - a page that fails or times out is reported, the others still run
        row = {"page": page, "errors": [f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}"]}
    row["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(row), flush=True)


def build(root: Path, n: int, dim: int) -> tuple[str, float]:
    """A synthetic store of n pairs and the seconds it took to build."""
    from dashboard.synthetic import build_synthetic_store

    start = time.perf_counter()
    build_synthetic_store(root / f"n{n}", n=n, dim=dim)
    return str(root / f"n{n}"), time.perf_counter() - start


def measure(store: str, page: str, sample: int, timeout_s: float) -> dict:
    """One page measured in a fresh worker process (killed when it runs past two page timeouts)."""
    command = [sys.executable, __file__, "--worker", store, "--page", page, "--sample", str(sample), "--timeout", str(timeout_s)]
    env = dict(os.environ, PYTHONPATH=str(REPO), HF_HUB_OFFLINE="1")
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=2 * timeout_s + 60)
    except subprocess.TimeoutExpired:
        return {"page": page, "errors": [f"killed after {2 * timeout_s + 60:.0f} s"]}
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return rows[-1] if rows else {"page": page, "errors": [(done.stderr.strip().splitlines() or ["no output"])[-1][:160]]}


def print_row(r: dict) -> None:
    """One page's line of a table."""
    rss = f"{r['peak_rss_mb']:>9.0f}" if "peak_rss_mb" in r else f"{'':>9}"
    if "warm_s" in r:
        print(f"  {r['page']:<14}{r['cold_s']:>9.2f}{r['warm_s']:>9.2f}{r['payload_kb']:>12.0f}{r['figures_kb']:>12.0f}{rss}  "
              + "; ".join(r["errors"]), flush=True)
    else:
        print(f"  {r['page']:<14}{'failed':>9}{'':>9}{'':>12}{'':>12}{rss}  " + "; ".join(r["errors"]), flush=True)


def sweep(label: str, store: str, sample: int, timeout_s: float) -> list[dict]:
    """Measure every page of app.py on one store, printing as it goes."""
    print(f"\n{label}")
    print(f"  {'page':<14}{'first s':>9}{'rerun s':>9}{'payload KB':>12}{'figures KB':>12}{'RSS MB':>9}  errors", flush=True)
    rows = []
    for page in PAGES:
        if (REPO / "pages" / f"{page}.py").is_file():
            rows.append(measure(store, page, sample, timeout_s))
            print_row(rows[-1])
    return rows


def main() -> None:
    """Build the stores, measure each page in a worker, print the tables and the targets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=SIZES)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--samples", type=int, nargs="*", default=[0, 500],
                        help="items in view: 0 = all (the hardest case), 500 = the sidebar's default sample")
    parser.add_argument("--store", default=str(REPO / "data" / "demo"), help="the demo store, for the memory target")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per page run")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--page", help=argparse.SUPPRESS)
    parser.add_argument("--sample", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.page, args.sample, args.timeout)
        return
    sys.path.insert(0, str(REPO))
    at_target: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="gapscope-bench-") as tmp:
        for n in args.sizes:
            store, seconds = build(Path(tmp), n, args.dim)
            for sample in dict.fromkeys(0 if s >= n else s for s in args.samples):
                shown = "all" if not sample or sample >= n else f"{sample:,} sampled"
                rows = sweep(f"N = {n:,} pairs, dim {args.dim}, {shown} in view (store built in {seconds:.1f} s)",
                             store, sample, args.timeout)
                at_target += rows if n == TARGET_N and not sample else []
    _targets(args, at_target)


def _targets(args: argparse.Namespace, at_target: list[dict]) -> None:
    """The demo store's memory and the rerun target."""
    if Path(args.store, "meta.duckdb").is_file():
        rows = sweep(f"demo store {args.store} (sidebar defaults)", args.store, 500, args.timeout)
        peak = max((r.get("peak_rss_mb", 0) for r in rows), default=0)
        print(f"\nmemory target: peak RSS {peak:.0f} MB on the demo store (target < {TARGET_RSS_MB} MB): "
              f"{'met' if peak < TARGET_RSS_MB else 'NOT met'}")
    else:
        print(f"\nno demo store at {args.store} (build it with `make demo-data`); peak RSS per page is printed above")
    if at_target:
        slow = [r["page"] for r in at_target if r.get("warm_s", 1e9) >= TARGET_RERUN_S]
        print(f"rerun target at N = {TARGET_N:,}, all in view: every page under {TARGET_RERUN_S} s: "
              f"{'met' if not slow else 'NOT met (' + ', '.join(slow) + ')'}")


if __name__ == "__main__":
    main()
