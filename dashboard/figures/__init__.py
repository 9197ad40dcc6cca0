"""Plain plotly figure builders (no streamlit): similarity heatmaps, pair scatter plots, loss landscapes, metric bars."""
