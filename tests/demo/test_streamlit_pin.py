"""The private Streamlit flag the sidebar resets exists in the installed Streamlit, whose version is in the range
pyproject.toml pins (so an upgrade past the tested versions fails here, not silently in a shared link)."""
from __future__ import annotations

import tomllib
from pathlib import Path

import streamlit
from packaging.requirements import Requirement
from streamlit.runtime.pages_manager import PagesManager

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def test_installed_streamlit_is_in_the_pinned_range() -> None:
    dependencies = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    [pin] = [Requirement(d) for d in dependencies if Requirement(d).name == "streamlit"]
    assert pin.specifier.contains(streamlit.__version__), (streamlit.__version__, str(pin.specifier))
    assert pin.specifier.contains("1.45.0") and not pin.specifier.contains("1.68.0")


def test_pages_manager_still_has_the_flag() -> None:
    assert "uses_pages_directory" in vars(PagesManager)
