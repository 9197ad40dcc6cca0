"""Streamlit-only helpers for the pages: URL state, sidebar, cached loaders, exports, item views, linked hover."""
