"""Pure analyses on embedding arrays (numpy/scipy/sklearn only; no streamlit, no torch, no store access)."""
