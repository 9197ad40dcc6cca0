"""Profile one page's rerun (all items in view) under Streamlit's AppTest with cProfile: where the seconds go.

    PYTHONPATH=$PWD .venv/bin/python bench/profile_page.py STORE gap --top 40
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    """Run the page once (caches filled), then profile the rerun and print the top functions."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store")
    parser.add_argument("page")
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--first", action="store_true", help="profile the first run instead of the rerun")
    args = parser.parse_args()
    from streamlit.runtime.scriptrunner import script_runner
    from streamlit.testing.v1 import AppTest

    os.chdir(REPO)
    profile, active = cProfile.Profile(), {"on": False}
    run_script = script_runner.exec_func_with_error_handling

    def profiled(func, ctx):
        """The script runner's call, profiled in its own thread when active."""
        if not active["on"]:
            return run_script(func, ctx)
        profile.enable()
        try:
            return run_script(func, ctx)
        finally:
            profile.disable()

    script_runner.exec_func_with_error_handling = profiled
    sys.path.insert(0, str(REPO / "bench"))
    from bench_dashboard import import_dashboard  # noqa: PLC0415 - the bench folder is not a package

    import_dashboard()  # a running server's imports are done: the first run profiles the page's own work
    app = AppTest.from_file(str(REPO / "app.py"), default_timeout=900)
    app.query_params.update({"store": args.store, "n": "0"})
    app.switch_page(f"pages/{args.page}.py")
    for run in ("first", "rerun"):
        start = time.perf_counter()
        active["on"] = (run == "first") == args.first
        app.run()
        print(f"{run}: {time.perf_counter() - start:.2f} s", flush=True)
    for error in [*app.exception, *app.error]:
        print("error:", str(error.value).splitlines()[0][:200])
    pstats.Stats(profile).sort_stats(args.sort).print_stats(args.top)


if __name__ == "__main__":
    main()
