"""Values derived from a cached object (a figure's JSON, a heatmap's row map), kept as long as that object lives.

The figures and heatmaps of a view come from st.cache_resource, so a rerun gets the very same object back; what is
derived from it (plotly's to_json of a 100k-point figure, the item-to-row map of 100k items) is then computed once
per object instead of once per rerun. Entries are keyed by the object's identity and dropped when it is garbage
collected (weakref.finalize), so an id is never reused for a stale value; a derived value must not refer back to
its object (it would never be collected).
"""
from __future__ import annotations

import threading
import weakref
from typing import Any, Callable, TypeVar

T = TypeVar("T")
_VALUES: dict[tuple[int, str], Any] = {}
_LOCK = threading.Lock()


def derived(obj: object, name: str, make: Callable[[], T]) -> T:
    """make(), computed once per live `obj` and `name`."""
    key = (id(obj), name)
    with _LOCK:
        if key in _VALUES:
            return _VALUES[key]
    value = make()
    with _LOCK:
        if key not in _VALUES:
            _VALUES[key] = value
            weakref.finalize(obj, _VALUES.pop, key, None)
        return _VALUES[key]
