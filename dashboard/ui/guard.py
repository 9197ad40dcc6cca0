"""Pages never crash on bad input: errors become one-line st.error messages."""
from __future__ import annotations

import contextlib
from typing import Iterator

import streamlit as st

from dashboard.errors import GapscopeError


def one_line(exc: BaseException) -> str:
    """The first line of an exception's message (with its type for unexpected errors)."""
    text = (str(exc).strip().splitlines() or [""])[0]
    return text if isinstance(exc, GapscopeError) else f"{type(exc).__name__}: {text}"


@contextlib.contextmanager
def shown_errors(where=st) -> Iterator[None]:
    """Run a block; a GapscopeError or any other Exception is shown as st.error instead of crashing the page
    (Streamlit's own stop/rerun signals are BaseExceptions and pass through)."""
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - the page must keep running whatever the input
        where.error(one_line(exc))
