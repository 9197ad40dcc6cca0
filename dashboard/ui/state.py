"""The view's state lives in the URL (st.query_params), so a copied link reproduces the view.

Each widget reads its start value from the URL (falling back to a default when the parameter is missing or
malformed) and writes its value back; defaults are left out of the URL to keep links short. Streamlit clears
the query string when the user switches pages in the navigation, so the last state is mirrored in
st.session_state and restored from there when the URL is empty.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import streamlit as st

MIRROR = "_gs_url_state"
SHARED = ("store", "dataset", "model", "models", "sql", "q", "n", "seed", "sel")


def restore() -> None:
    """Put the mirrored shared state back into an empty URL (after a page switch)."""
    mirror = st.session_state.setdefault(MIRROR, {})
    if not any(k in st.query_params for k in SHARED):
        for key, value in mirror.items():
            if key in SHARED:
                st.query_params[key] = value


def get(key: str, default: Any, cast: Callable[[str], Any] = str) -> Any:
    """The URL value of `key` cast to the default's type, or the default."""
    raw = st.query_params.get(key)
    if raw is None or raw == "":
        return default
    try:
        return cast(raw)
    except (TypeError, ValueError):
        return default


def put(key: str, value: Any, default: Any = None) -> None:
    """Write a value to the URL (removed when it equals the default) and to the mirror."""
    mirror = st.session_state.setdefault(MIRROR, {})
    text = _text(value)
    if value is None or value == default or text == "":
        if key in st.query_params:
            del st.query_params[key]
        mirror.pop(key, None)
        return
    if st.query_params.get(key) != text:
        st.query_params[key] = text
    mirror[key] = text


def _text(value: Any) -> str:
    """How a value is written into the URL."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    return "" if value is None else str(value)


def as_bool(text: str) -> bool:
    """Parse a URL flag."""
    return text.lower() in ("1", "true", "yes", "on")


def as_list(text: str) -> list[str]:
    """Parse a comma-separated URL list."""
    return [part for part in text.split(",") if part]


def as_range(text: str) -> tuple[int, int]:
    """Parse a URL range "start-stop" of two non-negative integers."""
    start, stop = (int(part) for part in text.split("-", 1))
    if start < 0 or stop <= start:
        raise ValueError(f"not a range: {text}")
    return start, stop


def shared_params() -> dict[str, str]:
    """The shared part of the URL, for links into other pages."""
    return {k: st.query_params[k] for k in SHARED if k in st.query_params}


@dataclass(frozen=True)
class ViewKey:
    """The subset in view, as the key of every cached computation: the store (and its version), the dataset and
    the sidebar's subset settings (SQL, caption filter, sample size, seed)."""

    store: str
    version: float
    dataset: str
    sql: str = ""
    q: str = ""
    n: int = 0
    seed: int = 0

    @classmethod
    def whole(cls, store: str, version: float, dataset: str) -> "ViewKey":
        """Every item of a dataset (no subset, no sample)."""
        return cls(store, version, dataset)
