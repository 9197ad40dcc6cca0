"""Where the Streamlit app's files are: app.py, pages/, data/heads and .streamlit/ at the top of a checkout, or in
the package `gapscope_app` that a wheel installs them as (pyproject.toml keeps the same layout in both)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

from dashboard.errors import GapscopeError

CHECKOUT = Path(__file__).resolve().parents[1]


def app_root() -> Path:
    """The folder holding app.py: the checkout's top level, else the installed `gapscope_app` package."""
    if (CHECKOUT / "app.py").is_file():
        return CHECKOUT
    spec = importlib.util.find_spec("gapscope_app")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        if (Path(location) / "app.py").is_file():
            return Path(location)
    raise GapscopeError("app.py: not found beside the dashboard package nor as gapscope_app (reinstall gapscope)")


def heads_dir() -> Path:
    """The demo models' head weights (data/heads)."""
    return app_root() / "data" / "heads"
