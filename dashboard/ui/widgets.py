"""Widgets whose value is read from and written to the URL (see dashboard.ui.state)."""
from __future__ import annotations

from typing import Any, Sequence

import streamlit as st

from dashboard.ui import state


def selectbox(label: str, options: Sequence[Any], key: str, default: Any = None, where: Any = st,
              **kwargs: Any) -> Any:
    """A selectbox mirrored in the URL parameter `key`."""
    options = list(options)
    if not options:
        return None
    fallback = default if default in options else options[0]
    current = state.get(key, fallback)
    current = next((o for o in options if str(o) == str(current)), fallback)
    value = where.selectbox(label, options, index=options.index(current), key=f"w_{key}", **kwargs)
    state.put(key, value, fallback)
    return value


def multiselect(label: str, options: Sequence[str], key: str, default: Sequence[str], where: Any = st,
                **kwargs: Any) -> list[str]:
    """A multiselect mirrored in the URL as a comma-separated list."""
    options = list(options)
    wanted = state.get(key, list(default), state.as_list)
    current = [o for o in wanted if o in options] or [o for o in default if o in options]
    value = where.multiselect(label, options, default=current, key=f"w_{key}", **kwargs)
    state.put(key, value, list(default))
    return list(value)


def toggle(label: str, key: str, default: bool = False, where: Any = st, **kwargs: Any) -> bool:
    """A toggle mirrored in the URL as 1/0."""
    value = where.toggle(label, value=state.get(key, default, state.as_bool), key=f"w_{key}", **kwargs)
    state.put(key, value, default)
    return bool(value)


def number(label: str, key: str, default: int, low: int, high: int, where: Any = st, **kwargs: Any) -> int:
    """An integer input mirrored in the URL; out-of-range URL values are clamped."""
    start = min(max(int(state.get(key, default, int)), low), high)
    value = where.number_input(label, min_value=low, max_value=high, value=start, step=1, key=f"w_{key}", **kwargs)
    state.put(key, int(value), default)
    return int(value)


def fraction(label: str, key: str, default: float = 1.0, where: Any = st, **kwargs: Any) -> float:
    """A slider from 0 to 1 in steps of 0.05 mirrored in the URL (0 and 1 written as "0" and "1", so a link of the
    on/off toggle it replaced, closed=1, reads the same); out-of-range URL values are clamped."""
    start = min(max(round(float(state.get(key, default, float)) * 20) / 20, 0.0), 1.0)
    value = round(float(where.slider(label, min_value=0.0, max_value=1.0, value=start, step=0.05, key=f"w_{key}",
                                     **kwargs)), 2)
    state.put(key, int(value) if value.is_integer() else value, default)
    return value


def text(label: str, key: str, default: str = "", where: Any = st, area: bool = False, **kwargs: Any) -> str:
    """A text input (or area) mirrored in the URL."""
    widget = where.text_area if area else where.text_input
    value = widget(label, value=state.get(key, default), key=f"w_{key}", **kwargs)
    state.put(key, value.strip(), default)
    return value.strip()


def radio(label: str, options: Sequence[str], key: str, default: str, where: Any = st, **kwargs: Any) -> str:
    """A horizontal radio mirrored in the URL."""
    options = list(options)
    current = state.get(key, default)
    current = current if current in options else default
    value = where.radio(label, options, index=options.index(current), key=f"w_{key}", horizontal=True, **kwargs)
    state.put(key, value, default)
    return value


def set_from_page(key: str, value: str) -> None:
    """Set a widget's value from the page (e.g. a clicked item) before the widget is drawn in this run."""
    state.put(key, value)
    st.session_state.pop(f"w_{key}", None)
