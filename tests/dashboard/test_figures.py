"""Figure builders: exact block-mean aggregation, zoom, difference view, WebGL scatter with coloured pair lines."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from dash_helpers import array

from dashboard.errors import GapscopeError
from dashboard.figures.bars import metric_bars
from dashboard.analysis.ordering import principal_order
from dashboard.figures.heatmap import (AGGREGATED_SIDE, MAX_SIDE, add_cluster_marks, color_range, difference_blocks,
                                       heatmap_figure, similarity_blocks, zoom_window)
from dashboard.figures.landscape import landscape_figure
from dashboard.figures.molecule import molecule_png
from dashboard.figures.scatter import LINE_BINS, MAX_LINES, marker_style, pair_scatter
from dashboard.synthetic import synthetic_vectors


def _vectors(n: int, dim: int = 8, seed: int = 0) -> tuple[list[str], dict[str, np.ndarray]]:
    """Ids and normalised image/text vectors."""
    _, vectors = synthetic_vectors(n, dim, ["image", "text"], seed=seed)
    return [f"i{k}" for k in range(n)], vectors


def _full(vectors: dict[str, np.ndarray]) -> np.ndarray:
    """The full cosine matrix [A; B][A; B]^T."""
    z = np.concatenate(list(vectors.values())).astype(np.float64)
    z /= np.linalg.norm(z, axis=1, keepdims=True)
    return z @ z.T


def test_small_heatmap_is_the_full_cosine_matrix() -> None:
    ids, vectors = _vectors(30)
    data = similarity_blocks(vectors, ids)
    assert not data.aggregated and data.block == 30 and data.boundaries == [30]
    np.testing.assert_allclose(data.matrix, _full(vectors), atol=1e-5)
    assert data.labels[0] == "image · i0" and data.labels[30] == "text · i0"


def test_large_heatmap_holds_exact_block_means() -> None:
    ids, vectors = _vectors(1000)
    data = similarity_blocks(vectors, ids, max_side=100)
    assert data.aggregated and data.matrix.shape == (100, 100) and data.block == 50
    full = _full(vectors)
    # row run 3 of images (items 60..79) against column run 7 of texts (items 140..159)
    expected = full[60:80, 1000 + 140:1000 + 160].mean()
    assert data.matrix[3, 50 + 7] == pytest.approx(expected, abs=1e-5)
    assert data.row_items[3] == ids[60:80]


def test_order_and_zoom_window() -> None:
    ids, vectors = _vectors(1000)
    order = np.arange(1000)[::-1]
    data = similarity_blocks(vectors, ids, order=order, window=(10, 40), max_side=100)
    assert not data.aggregated and data.block == 30
    assert data.row_items[0] == [ids[989]]
    full = _full(vectors)
    assert data.matrix[0, 30] == pytest.approx(full[989, 1000 + 989], abs=1e-5)
    with pytest.raises(GapscopeError, match="zoom window"):
        similarity_blocks(vectors, ids, window=(2000, 2100))


def test_payload_stays_small_at_any_n() -> None:
    ids, vectors = _vectors(20000, dim=4)
    figure = heatmap_figure(similarity_blocks(vectors, ids))
    assert len(figure.to_json()) < 3_000_000
    assert array(figure.data[0].z).shape == (AGGREGATED_SIDE, AGGREGATED_SIDE)


def test_default_view_of_500_pairs_shows_every_cell() -> None:
    ids, vectors = _vectors(500)
    data = similarity_blocks(vectors, ids)
    assert MAX_SIDE >= 1000 and not data.aggregated and data.matrix.shape == (1000, 1000)
    more_ids, more = _vectors(501)
    assert similarity_blocks(more, more_ids).aggregated


def test_zoom_window_maps_rows_back_to_positions() -> None:
    ids, vectors = _vectors(1000)
    data = similarity_blocks(vectors, ids, window=(100, 1000), max_side=100)  # 900 items, 50 runs of 18
    assert data.offset == 100 and data.run_edges[:3] == (0, 18, 36) and data.run_edges[-1] == 900
    assert zoom_window(data, 2, 1) == (118, 154)
    zoomed = similarity_blocks(vectors, ids, window=zoom_window(data, 1, 2), max_side=100)
    assert not zoomed.aggregated and zoomed.row_items[0] == [ids[118]]
    with pytest.raises(GapscopeError, match="outside the 50 rows"):
        zoom_window(data, 0, 50)


def test_principal_order_sorts_items_along_the_main_axis() -> None:
    rng = np.random.default_rng(0)
    t = rng.permutation(200).astype(float)
    axis = np.zeros(8)
    axis[3] = 1.0
    blocks = [np.outer(t, axis) + rng.normal(0, 0.01, (200, 8)) for _ in range(2)]
    order = principal_order(blocks)
    assert np.array_equal(t[order], np.arange(200.0)) or np.array_equal(t[order], np.arange(200.0)[::-1])
    assert np.array_equal(principal_order([b[::-1] for b in blocks]), 199 - order)


def test_difference_view_is_image_minus_text() -> None:
    ids, vectors = _vectors(20)
    data = similarity_blocks(vectors, ids)
    diff = difference_blocks(data, "image", "text")
    full = _full(vectors)
    np.testing.assert_allclose(diff.matrix, full[:20, :20] - full[20:, 20:], atol=1e-5)
    with pytest.raises(GapscopeError, match="no modality 'audio'"):
        difference_blocks(data, "image", "audio")


def test_empty_subset_is_a_one_line_error() -> None:
    with pytest.raises(GapscopeError, match="empty"):
        similarity_blocks({"image": np.zeros((0, 4))}, [])


def test_heatmap_figure_has_block_lines_and_one_colour_scale() -> None:
    ids, vectors = _vectors(10)
    a = similarity_blocks(vectors, ids)
    b = similarity_blocks({m: v[::-1] for m, v in vectors.items()}, ids)
    zrange = color_range(a, b)
    figure = heatmap_figure(a, zrange=zrange)
    trace = figure.data[0]
    assert (trace.zmin, trace.zmax) == zrange
    assert isinstance(trace, go.Heatmap) and len(figure.layout.shapes) == 2
    assert {s.x0 for s in figure.layout.shapes if s.x0 == s.x1} == {9.5}
    assert list(figure.layout.xaxis.ticktext) == ["image", "text"]
    diverging = heatmap_figure(difference_blocks(a, "image", "text"), diverging=True).data[0]
    assert diverging.zmin == -diverging.zmax


def _points(n: int = 20) -> pd.DataFrame:
    """Two modalities, n items, item k at (k, 0) and (k, 1)."""
    ids = [str(k) for k in range(n)]
    return pd.DataFrame({"item_id": ids * 2, "modality": ["image"] * n + ["text"] * n,
                         "x": list(range(n)) * 2, "y": [0.0] * n + [1.0] * n})


def test_scatter_is_webgl_with_lines_above_the_points() -> None:
    figure = pair_scatter(_points(), lines=True)
    assert all(isinstance(t, go.Scattergl) for t in figure.data)
    markers = [t for t in figure.data if t.mode == "markers"]
    assert [t.name for t in markers] == ["image", "text"] and list(markers[0].customdata[:2]) == [0, 1]
    line = figure.data[-1]
    assert line.mode == "lines" and len(line.x) == 60 and figure.data.index(line) > figure.data.index(markers[-1])
    assert line.x[0] == line.x[1] == 0 and tuple(line.y[:2]) == (0.0, 1.0) and np.isnan(line.x[2])
    assert figure.layout.dragmode == "lasso"


def test_scatter_sends_binary_arrays() -> None:
    figure = pair_scatter(_points(50), lines=True)
    spec = figure.to_plotly_json()["data"]
    encoded = [t for t in json.loads(figure.to_json())["data"] if t["mode"] == "markers"]
    assert all(isinstance(t["x"], dict) and "bdata" in t["x"] and "bdata" in t["customdata"] for t in encoded)
    assert array(encoded[0]["customdata"]).tolist() == list(range(50)) and len(spec) == 3


def test_scatter_customdata_indexes_the_given_ids() -> None:
    points = _points(4)
    ids = ["9", "3", "2", "1", "0"]
    figure = pair_scatter(points, lines=False, ids=ids)
    image = figure.data[0]
    assert sorted(image.customdata.tolist()) == [1, 2, 3, 4]
    for index, x in zip(image.customdata, image.x):
        assert float(x) == float(ids[index])


def test_scatter_lines_coloured_by_pair_cosine() -> None:
    cosine = pd.Series(np.linspace(0.1, 0.9, 20), index=[str(k) for k in range(20)])
    figure = pair_scatter(_points(), cosine=cosine)
    lines = [t for t in figure.data if t.mode == "lines"]
    assert len(lines) == LINE_BINS
    assert sum(len(t.x) // 3 for t in lines) == 20
    colours = {t.line.color for t in lines}
    assert len(colours) == LINE_BINS
    bar = [t for t in figure.data if t.marker is not None and t.marker.showscale]
    assert bar and bar[0].marker.cmin == pytest.approx(0.1) and bar[0].marker.cmax == pytest.approx(0.9)


def test_many_pairs_get_a_sample_of_lines_and_faint_markers() -> None:
    n = MAX_LINES * 3
    figure = pair_scatter(_points(n), lines=True)
    [line] = [t for t in figure.data if t.mode == "lines"]
    assert len(line.x) // 3 == MAX_LINES and f"{MAX_LINES:,} of {n:,}" in figure.layout.title.text
    markers = [t for t in figure.data if t.mode == "markers"]
    assert sum(len(t.x) for t in markers) == 2 * n  # every point stays drawn
    assert marker_style(100_000)[1] < marker_style(5_000)[1] < marker_style(500)[1]


def test_scatter_highlight_dims_the_rest_and_draws_the_selection_on_top() -> None:
    figure = pair_scatter(_points(4), lines=False, highlight={"1"})
    base, selected = figure.data[0], figure.data[2]
    assert base.marker.opacity < 0.5 and selected.name == "image (selected)" and selected.marker.opacity == 1.0
    assert selected.customdata.tolist() == [1] and len(figure.data) == 4


def test_landscape_and_bars() -> None:
    curves = {"m": {"deltas": [-1, 0, 1], "distances": [1.0, 0.5, -0.2], "losses": [2.0, 1.0, 3.0]}}
    figure = landscape_figure(curves)
    assert [list(t.y) for t in figure.data] == [[1.0, 0.5, -0.2], [2.0, 1.0, 3.0]]
    frame = pd.DataFrame({"model": ["a", "b"], "loss": [1.0, 2.0], "gap_distance": [0.5, 0.1]})
    bars = metric_bars(frame, ["loss", "gap_distance"])
    assert [t.name for t in bars.data] == ["a", "b"] and list(bars.data[1].y) == [2.0, 0.1]


def test_molecule_drawing() -> None:
    image = molecule_png("c1ccccc1O")
    assert image[:4] == b"\x89PNG" and len(image) > 500
    with pytest.raises(GapscopeError, match="not a valid SMILES"):
        molecule_png("((nonsense")


def test_cluster_marks_between_clusters_of_every_block() -> None:
    ids, vectors = _vectors(10)
    data = similarity_blocks(vectors, ids)
    figure = add_cluster_marks(heatmap_figure(data), data, [3, 7], ["dog frisbee", "hot dog"])
    dotted = [s for s in figure.layout.shapes if s.line.dash == "dot"]
    assert sorted({s.y0 for s in dotted if s.y0 == s.y1}) == [2.5, 12.5]
    assert [a.text for a in figure.layout.annotations] == ["dog frisbee", "hot dog"]
    assert [a.y for a in figure.layout.annotations] == [1.0, 6.0]


ORDER_SCRIPT = """
import sys
import numpy as np
from dashboard.analysis.ordering import principal_order
rng = np.random.default_rng(1)
base = [rng.normal(size=(700, 64)).astype(np.float32) for _ in range(2)]
shuffle = rng.permutation(2100)
blocks = [np.repeat(b, 3, axis=0)[shuffle] for b in base]  # each item three times, scattered
sys.stdout.write(principal_order(blocks).tobytes().hex())
"""


def test_principal_order_ties_identical_items_whatever_the_kernel() -> None:
    import os
    import subprocess
    import sys

    runs = []
    for env in ({}, {"OPENBLAS_CORETYPE": "Nehalem", "OPENBLAS_NUM_THREADS": "1"},
                {"OPENBLAS_CORETYPE": "Haswell", "OPENBLAS_NUM_THREADS": "2"}):
        done = subprocess.run([sys.executable, "-c", ORDER_SCRIPT], env={**os.environ, **env}, capture_output=True,
                              text=True, check=True)
        runs.append(np.frombuffer(bytes.fromhex(done.stdout), dtype=np.int64))
    assert all(np.array_equal(runs[0], other) for other in runs[1:])
    rng = np.random.default_rng(1)
    base = [rng.normal(size=(700, 64)).astype(np.float32) for _ in range(2)]
    copies = np.repeat(base[0], 3, axis=0)[rng.permutation(2100)]
    order = runs[0]
    for start in range(0, 2100, 3):  # the three copies of an item are neighbours, in item order
        group = order[start:start + 3]
        assert np.array_equal(group, np.sort(group)) and (copies[group] == copies[group[0]]).all()
