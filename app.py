"""gapscope dashboard: `streamlit run app.py` (or `gapscope app --store S`). The store comes from the URL's
`store` parameter, else $GAPSCOPE_STORE, else data/demo. Everything loads offline: the page icon is an emoji (an
inline SVG in the browser; a ":material/...:" page icon would be fetched from fonts.gstatic.com) and the navigation's
Material icons come from the font bundled with Streamlit."""
from pathlib import Path

import streamlit as st

st.set_page_config(page_title="gapscope", page_icon="🌓", layout="wide")

HERE = Path(__file__).resolve().parent
PAGES = [
    ("pages/overview.py", "Overview", ":material/dashboard:"),
    ("pages/explore.py", "Explore", ":material/grid_on:"),
    ("pages/gap.py", "Gap", ":material/compare_arrows:"),
    ("pages/compare.py", "Compare", ":material/view_column:"),
    ("pages/augmentations.py", "Augmentations", ":material/rotate_right:"),
    ("pages/sql.py", "SQL", ":material/database:"),
    ("pages/search.py", "Search", ":material/search:"),
]

pages = [st.Page(path, title=title, icon=icon, default=path.endswith("overview.py"))
         for path, title, icon in PAGES if (HERE / path).is_file()]
st.navigation(pages).run()
