"""Assertions and look-ups shared by the dashboard tests."""
from __future__ import annotations

import base64
import json

import numpy as np
from streamlit.testing.v1 import AppTest


def no_errors(at: AppTest) -> None:
    """The run raised nothing and showed no st.error."""
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def texts(at: AppTest) -> str:
    """All markdown, captions and headings of a run, joined (for content checks)."""
    parts = [e.value for e in [*at.markdown, *at.caption, *at.title, *at.subheader, *at.header]]
    return "\n".join(str(p) for p in parts)


def metric(at: AppTest, label: str) -> str:
    """The value of the st.metric with this label."""
    found = [m.value for m in at.metric if m.label == label]
    assert found, f"no metric {label!r} (have {[m.label for m in at.metric]})"
    return found[0]


def widget(at: AppTest, kind: str, label: str):
    """The widget of this kind (e.g. "toggle") with this label, in the main area or the sidebar."""
    found = [w for w in getattr(at, kind) if w.label == label]
    assert found, f"no {kind} {label!r} (have {[w.label for w in getattr(at, kind)]})"
    return found[0]


def linked_args(at: AppTest) -> dict:
    """The arguments sent to the linked-hover component (heatmap and scatter JSON decoded)."""
    elements = at.get("component_instance")
    assert elements, "the linked heatmap/scatter component is not on the page"
    args = json.loads(elements[0].proto.json_args)
    for name in ("heatmap", "scatter"):
        args[name] = json.loads(args[name]) if args.get(name) else None
    return args


def plotly_figures(at: AppTest) -> list[dict]:
    """The figures of the st.plotly_chart elements of a run."""
    return [json.loads(e.proto.spec) for e in at.get("plotly_chart")]


def array(value) -> np.ndarray:
    """A plotly JSON array (plain list or base64 typed array) as numpy."""
    if isinstance(value, dict) and "bdata" in value:
        data = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        shape = [int(s) for s in str(value.get("shape", len(data))).split(",")]
        return data.reshape(shape)
    return np.asarray(value)


def published(url: str) -> list:
    """The records the linked-hover component published under a data URL (all chunks, in order)."""
    from dashboard.ui import hover

    folder = hover._served_dir() / url.removeprefix("./")
    chunks = sorted(folder.glob("*.json"), key=lambda p: int(p.stem))
    return [record for chunk in chunks for record in json.loads(chunk.read_text())]
