"""SQL benchmark: the first query over the `pairs` view, computed live versus read from the precomputed artefact.

For each N a synthetic store (two models, image/text, dim 64 or --dim) is built in a temporary folder. The first query that
names `pairs` fills the view with every model's pair similarities and ranks: live, that is an N x N similarity
pass per model; after precompute (what every ingest and `gapscope precompute` do) it reads one Parquet artefact
per model and checks, from the stored ids alone, that it still covers the items with every modality.

    .venv/bin/python bench/bench_sql.py                 # N = 20k and 100k
    .venv/bin/python bench/bench_sql.py --sizes 5000
    .venv/bin/python bench/bench_sql.py --sizes 100000 --dim 512   # the 100k figure (target: stored < 10 s)

The ranks are dashboard.analysis.ranking's (exact, both directions from one float32 pass per model), so the
precompute column is about one N x N x dim float32 product per model plus the comparisons.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
QUERY = "SELECT model, avg(similarity) AS s, avg(CAST(rank_image_to_text <= 10 AS DOUBLE)) AS r10 FROM pairs GROUP BY model"


def first_query(path: str) -> float:
    """Seconds of the first pairs query on a fresh view of the store."""
    from dashboard.sql import run_query

    start = time.perf_counter()
    run_query(path, "synthetic", QUERY)
    return time.perf_counter() - start


def store_pair_figures(path: str) -> float:
    """Seconds to precompute and store the pair figures of every model (the precompute step alone)."""
    from dashboard.sql.figures import figures_of
    from dashboard.store import Store, artifacts

    store = Store.open(path, read_only=False)
    start = time.perf_counter()
    for model in store.models()["name"]:
        figures = figures_of(store.pairs("synthetic", model), model, ["image", "text"])
        store.put_frame("synthetic", model, artifacts.PAIR_FIGURES, artifacts.pair_figures_key(["image", "text"]),
                        figures)
    return time.perf_counter() - start


def main() -> None:
    """Build each store, time the live first query, precompute, time it again."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[20_000, 100_000])
    parser.add_argument("--dim", type=int, default=64)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from dashboard.synthetic import build_synthetic_store

    print(f"{'N':>9}{'live first query s':>20}{'precompute s':>14}{'stored first query s':>22}")
    with tempfile.TemporaryDirectory(prefix="gapscope-bench-sql-") as tmp:
        for n in args.sizes:
            path = str(Path(tmp) / f"n{n}")
            build_synthetic_store(path, n=n, dim=args.dim)
            live = first_query(path)
            precompute = store_pair_figures(path)
            stored = first_query(path)
            print(f"{n:>9,}{live:>20.2f}{precompute:>14.2f}{stored:>22.2f}", flush=True)


if __name__ == "__main__":
    main()
