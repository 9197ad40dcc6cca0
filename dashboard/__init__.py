"""gapscope's plain library: the store, the analyses and the figure builders (no streamlit here)."""
