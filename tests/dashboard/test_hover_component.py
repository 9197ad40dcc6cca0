"""The linked-hover component's front end: served folder with plotly.js (no CDN) and the stable DOM ids the
browser tests rely on."""
from __future__ import annotations

import re

from dashboard.ui import hover


def test_served_folder_holds_page_and_plotly() -> None:
    folder = hover._served_dir()
    page = (folder / "index.html").read_text()
    assert page == hover._SOURCE.read_text()
    assert (folder / "plotly.min.js").read_bytes() == hover._PLOTLY_JS.read_bytes()
    assert 'src="./plotly.min.js"' in page and not re.search(r"src=\"https?://", page)


def test_stable_selectors_and_streamlit_protocol() -> None:
    page = hover._SOURCE.read_text()
    for selector in ("gs-heatmap", "gs-scatter", "gs-hover-panel", "gs-hover-image", "gs-hover-caption",
                     "gs-hover-col-image", "gs-hover-col-caption", "gs-hover-value"):
        assert f'id="{selector}"' in page and f'data-testid="{selector}"' in page
    for message in ("streamlit:componentReady", "streamlit:setFrameHeight", "streamlit:setComponentValue",
                    "streamlit:render", "plotly_hover", "plotly_click", "plotly_selected", "data-gs-ready"):
        assert message in page
