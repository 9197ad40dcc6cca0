"""SQL sandbox benchmark: what running users' SQL in a locked worker process costs, against raw DuckDB in-process.

On a synthetic store of N items, the same query runs through dashboard.sql.run_query (checks, worker round trip,
Arrow transfer) and on a raw in-process DuckDB connection holding the same items table; the figures are the
median seconds and their ratio. It also prints the start-up of a fresh worker, and how much the server process's
peak memory grows for a list-heavy query in the sandbox versus raw DuckDB in-process.

    .venv/bin/python bench/bench_sql_sandbox.py              # N = 5000
    .venv/bin/python bench/bench_sql_sandbox.py --n 20000 --repeats 20
"""
from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
QUERIES = {
    "count": "SELECT count(*) AS n FROM items",
    "filter": "SELECT item_id, text FROM items WHERE text ILIKE '%dog%' ORDER BY ordinal",
    "all rows": "SELECT * FROM items",
}
HEAVY = "SELECT list_sort(range(20000000))[1] AS x"


def median_seconds(run, repeats: int) -> float:
    """Median wall time of run() over repeats calls."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peak_growth_mb(run) -> float:
    """How much this process's peak resident memory grows while run() runs, in MB."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    run()
    return (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024


def _try(run) -> str:
    """'answered' or the one-line refusal of run()."""
    from dashboard.errors import GapscopeError

    try:
        run()
    except GapscopeError as exc:
        return f"refused: {exc}"
    return "answered"


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    import duckdb

    from dashboard.sql import run_query
    from dashboard.sql.database import database
    from dashboard.synthetic import build_synthetic_store

    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "store")
        build_synthetic_store(path, n=args.n, dim=16)
        items = duckdb.connect(str(database(path, "synthetic").file), read_only=True).sql("FROM items").df()
        raw = duckdb.connect(":memory:")
        raw.register("incoming", items)
        raw.execute("CREATE TABLE items AS SELECT * FROM incoming")
        print(f"N = {args.n}, {args.repeats} repeats (shared machine: compare the ratios)")
        for name, sql in QUERIES.items():
            sandbox = median_seconds(lambda: run_query(path, "synthetic", sql, max_rows=args.n), args.repeats)
            direct = median_seconds(lambda: raw.sql(sql).df(), args.repeats)
            print(f"{name:>9}: sandbox {sandbox * 1000:7.2f} ms, raw DuckDB {direct * 1000:7.2f} ms, "
                  f"ratio {sandbox / direct:6.1f}x")
        database(path, "synthetic").pool.close()
        start = time.perf_counter()
        run_query(path, "synthetic", QUERIES["count"])
        print(f"fresh worker start + first query: {(time.perf_counter() - start) * 1000:.0f} ms")
        outcome = []
        sandboxed = peak_growth_mb(lambda: outcome.append(_try(lambda: run_query(path, "synthetic", HEAVY, timeout_s=60))))
        direct = peak_growth_mb(lambda: raw.sql(HEAVY).fetchall())
        print(f"server peak memory growth for {HEAVY!r}: sandbox {sandboxed:.0f} MB ({outcome[0]}), "
              f"raw DuckDB in-process {direct:.0f} MB")


if __name__ == "__main__":
    main()
