"""Dashboard benchmark: page rerun times, bytes sent per rerun, server peak memory and browser hover latency.

For each N (default 5k, 20k, 100k pairs; 512-d, two models, image/text) a synthetic store is built into a temporary
folder and its PCA projections and whole-dataset heatmaps are precomputed (`--precompute full` runs dashboard.precompute instead: metrics,
clusters, landscape too; slow at 100k). Then, with all N items in view (sample size 0):

* every page (app.py's navigation, switched to the page) runs in its own worker process under Streamlit's AppTest:
  "imports s" = importing the dashboard's modules (dashboard.ui, every page's imports: paid once per server
  process, before any page), then the first run of the page (caches filled: its first load on a running server)
  and the rerun a user waits for after moving a widget; "MB sent" = bytes of the element messages of the rerun
  (what Streamlit sends to the browser);
  "VmHWM" = peak resident memory of that worker (/proc/self/status; ru_maxrss would inherit the parent's peak);
* a real `streamlit run app.py` is opened in headless Chromium (Playwright): the time until Explore's linked view
  is drawn ("first draw"), the median time from moving the mouse onto a heatmap cell to the hover panel showing
  that cell's item (over HOVERS cells, each a different row), and the server's VmHWM after that; hover is also
  timed on the 5k store with the sidebar's default sample of 500 (the "500" row, the reference for "flat in N");
  a screenshot of Explore at the largest N goes to bench/results/explore-<N>.png.

Goals (issue 12): every rerun < 2 s (< 1 s at 5,000), first load < 5 s with the store's artefacts precomputed
(`--precompute full`), <= 10 MB per rerun, server < 1 GB, hover < 100 ms and within
2x of the 500 figure. The machine may be shared: compare the figures as ratios (e.g. hover at N / hover at 500).

    PYTHONPATH=$PWD .venv/bin/python bench/bench_dashboard.py                       # 5k, 20k, 100k
    PYTHONPATH=$PWD .venv/bin/python bench/bench_dashboard.py --sizes 5000 --pages explore --no-browser
    PYTHONPATH=$PWD .venv/bin/python bench/bench_dashboard.py --sizes 100000 --in-view 0 500   # and the default sample
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
PAGES = ["overview", "explore", "gap", "compare", "augmentations", "sql", "search"]
SIZES = [5_000, 20_000, 100_000]
RERUN_S, RERUN_S_5K, FIRST_S, MAX_MB, MAX_RSS_MB, HOVER_MS = 2.0, 1.0, 5.0, 10.0, 1024, 100.0


def _payload(app) -> int:
    """Bytes of the element messages of an AppTest run."""
    total, stack = 0, [app._tree]
    while stack:
        node = stack.pop()
        stack.extend(getattr(node, "children", {}).values())
        proto = getattr(node, "proto", None)
        total += proto.ByteSize() if proto is not None and hasattr(proto, "ByteSize") else 0
    return total


def worker(store: str, page: str, timeout_s: float, peak, in_view: int = 0) -> None:
    """Run one page twice (`in_view` items in view, 0 = all) in this process; print one JSON line."""
    from streamlit.testing.v1 import AppTest

    os.chdir(REPO)
    row: dict = {"page": page}
    try:
        started = time.perf_counter()
        import_dashboard()
        row["imports_s"] = time.perf_counter() - started
        app = AppTest.from_file(str(REPO / "app.py"), default_timeout=timeout_s)
        app.query_params.update({"store": store, "n": str(in_view)})
        app.switch_page(f"pages/{page}.py")
        for name in ("first_s", "rerun_s"):
            start = time.perf_counter()
            app.run()
            row[name] = time.perf_counter() - start
        row["mb"] = _payload(app) / 1e6
        row["errors"] = [str(e.value).splitlines()[0][:120] for e in [*app.exception, *app.error]]
    except Exception as exc:  # noqa: BLE001 - a page that fails or times out is reported, the others still run
        row["errors"] = [f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}"]
    row["vmhwm_mb"] = peak()
    print(json.dumps(row), flush=True)


def import_dashboard() -> None:
    """Import what the pages import (every module of dashboard.ui, with streamlit, the store and the analyses)."""
    import importlib
    import pkgutil

    import dashboard.ui

    for module in pkgutil.iter_modules(dashboard.ui.__path__):
        importlib.import_module(f"dashboard.ui.{module.name}")


def measure(store: str, page: str, timeout_s: float, in_view: int = 0) -> dict:
    """One page in a fresh worker process (killed past two page timeouts)."""
    command = [sys.executable, __file__, "--worker", store, "--page", page, "--timeout", str(timeout_s),
               "--in-view", str(in_view)]
    env = dict(os.environ, PYTHONPATH=str(REPO), HF_HUB_OFFLINE="1")
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=2 * timeout_s + 60)
    except subprocess.TimeoutExpired:
        return {"page": page, "errors": [f"killed after {2 * timeout_s + 60:.0f} s"]}
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return rows[-1] if rows else {"page": page, "errors": [(done.stderr.strip().splitlines() or ["no output"])[-1][:160]]}


def build(root: Path, n: int, dim: int, how: str) -> tuple[str, float]:
    """A synthetic store of n pairs with its artefacts precomputed; the seconds it took."""
    from dashboard.synthetic import build_synthetic_store

    start = time.perf_counter()
    store = build_synthetic_store(root / f"n{n}", n=n, dim=dim)
    for model in ("synth-a", "synth-b"):
        _precompute(store, model, how)
    return str(root / f"n{n}"), time.perf_counter() - start


def _precompute(store, model: str, how: str) -> None:
    """The PCA projection artefacts (gap and closed), the stored heatmaps and search indices of one model, or
    everything dashboard.precompute stores."""
    import pandas as pd

    from dashboard.analysis.closing import close_gaps
    from dashboard.analysis.projection import project_modalities
    from dashboard.analysis.similarity import normalize
    from dashboard.precompute import precompute
    from dashboard.store import artifacts
    from dashboard.stored_heatmap import store_views

    if how == "full":
        precompute(store, "synthetic", model, umap=False, tsne=False)
        return
    paired = store.pairs("synthetic", model)
    for closed in (False, True):
        blocks = {m: normalize(v, m) for m, v in paired.vectors.items()}
        blocks = close_gaps(blocks) if closed else blocks
        coords = project_modalities(list(blocks.values()), "pca")
        frame = pd.concat([pd.DataFrame({"item_id": paired.item_ids, "modality": m, "x": c[:, 0].astype(float),
                                         "y": c[:, 1].astype(float)}) for m, c in zip(blocks, coords)],
                          ignore_index=True)
        store.put_frame("synthetic", model, artifacts.PROJECTION, artifacts.projection_key("pca", closed), frame)
    store_views(store, "synthetic", model)
    store.index_vectors("synthetic", model)


def page_table(n: int, store: str, pages: list[str], timeout_s: float, in_view: int = 0) -> list[dict]:
    """Every page measured on one store with `in_view` items in view (0 = all), printed as it goes."""
    print(f"\nN = {n:,} pairs, " + ("all in view" if not in_view else f"{in_view:,} in view (a seeded sample)"))
    print(f"  {'page':<14}{'imports s':>10}{'first s':>9}{'rerun s':>9}{'MB sent':>9}{'VmHWM MB':>10}  errors",
          flush=True)
    rows = []
    for page in pages:
        r = measure(store, page, timeout_s, in_view)
        rows.append({**r, "n": n, "at": f"{n:,}" + (f"/{in_view}" if in_view else "")})
        timing = (f"{r['imports_s']:>10.2f}{r['first_s']:>9.2f}{r['rerun_s']:>9.2f}{r['mb']:>9.2f}" if "rerun_s" in r
                  else f"{'failed':>37}")
        print(f"  {page:<14}{timing}{r.get('vmhwm_mb', float('nan')):>10.0f}  " + "; ".join(r["errors"]), flush=True)
    return rows


def main() -> None:
    """Build the stores, measure the pages and the browser, print the tables and the goals."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=SIZES)
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--pages", nargs="*", default=PAGES)
    parser.add_argument("--precompute", choices=["pca", "full"], default="pca")
    parser.add_argument("--no-browser", action="store_true", help="skip the Chromium hover timing")
    parser.add_argument("--stores", help="keep the built stores in this folder (reused when already built there)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per page run")
    parser.add_argument("--in-view", type=int, nargs="*", default=[0],
                        help="items in view, one page table each (0 = all: the goals' setting; 500 = the sidebar's "
                             "default sample)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--page", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path[:0] = [str(REPO), str(REPO / "bench")]
    from browser_timing import browser_row, vm_hwm_mb  # noqa: PLC0415 - the bench folder is not a package

    if args.worker:
        worker(args.worker, args.page, args.timeout, vm_hwm_mb, args.in_view[0])
        return

    pages, browser = [], []
    with tempfile.TemporaryDirectory(prefix="gapscope-bench-") as tmp:
        for n in args.sizes:
            root = Path(args.stores or tmp)
            if (root / f"n{n}" / "meta.duckdb").is_file():
                store = str(root / f"n{n}")
                print(f"\nstore of {n:,} pairs reused from {store}")
            else:
                store, seconds = build(root, n, args.dim, args.precompute)
                print(f"\nstore of {n:,} pairs, {args.dim}-d, two models, built and precomputed in {seconds:.1f} s")
            for in_view in args.in_view:
                pages += page_table(n, store, [p for p in args.pages if (REPO / "pages" / f"{p}.py").is_file()],
                                    args.timeout, in_view)
            if not args.no_browser:
                if n == min(args.sizes):
                    browser.append(browser_row(store, 500, 500, None))
                shot = RESULTS / f"explore-{n}.png" if n == max(args.sizes) else None
                browser.append(browser_row(store, n, 0, shot))
    _summary(pages, browser)


def _summary(pages: list[dict], browser: list[dict]) -> None:
    """The browser table and each goal met or not."""
    if browser:
        base = browser[0].get("hover_ms")
        print(f"\nbrowser (headless Chromium, software GL)\n  {'in view':>9}{'first draw s':>14}{'hover ms':>10}"
              f"{'x 500':>7}{'server VmHWM MB':>17}  note")
        for r in browser:
            ratio = r["hover_ms"] / base if base and r.get("hover_ms") else float("nan")
            print(f"  {r['n']:>9,}{r.get('first_draw_s', float('nan')):>14.2f}{r.get('hover_ms', float('nan')):>10.0f}"
                  f"{ratio:>7.2f}{r.get('server_vmhwm_mb', float('nan')):>17.0f}  {r.get('note', '')}")
    done = [r for r in pages if "rerun_s" in r]
    slow = [f"{r['page']}@{r['at']} {r['rerun_s']:.2f}s" for r in done
            if r["rerun_s"] >= (RERUN_S_5K if r["n"] <= 5_000 else RERUN_S)]
    heavy = [f"{r['page']}@{r['at']} {r['mb']:.1f}MB" for r in done if r["mb"] > MAX_MB]
    late = [f"{r['page']}@{r['at']} {r['first_s']:.2f}s" for r in done if r["first_s"] >= FIRST_S]
    failed = [f"{r['page']}@{r['at']}" for r in pages if "rerun_s" not in r or r.get("errors")]
    rss = max([r.get("vmhwm_mb", 0) for r in pages] + [r.get("server_vmhwm_mb", 0) for r in browser], default=0)
    hover = [r for r in browser if r.get("hover_ms")]
    worst = max((r["hover_ms"] for r in hover), default=float("nan"))
    flat = hover and worst <= 2 * hover[0]["hover_ms"]
    print(f"\nrerun < {RERUN_S} s (< {RERUN_S_5K} s at 5,000): {'met' if not slow else 'NOT met: ' + ', '.join(slow)}")
    print(f"first load < {FIRST_S:.0f} s after the imports (with --precompute full): "
          f"{'met' if not late else 'NOT met: ' + ', '.join(late)}")
    print(f"<= {MAX_MB:.0f} MB per rerun: {'met' if not heavy else 'NOT met: ' + ', '.join(heavy)}")
    print(f"peak memory {rss:.0f} MB (< {MAX_RSS_MB} MB): {'met' if rss < MAX_RSS_MB else 'NOT met'}")
    if hover:
        print(f"hover {worst:.0f} ms worst (< {HOVER_MS:.0f} ms, within 2x of 500): "
              f"{'met' if worst < HOVER_MS and flat else 'NOT met'}")
    if failed:
        print(f"pages with errors: {', '.join(failed)}")


if __name__ == "__main__":
    main()
