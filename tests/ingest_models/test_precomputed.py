"""Precomputed vectors: the same vectors from a .npy folder, an .npz and a Parquet file, looked up by item id."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dashboard.errors import GapscopeError
from ingest.base import BadItem
from ingest.models import load_model

IDS = np.array(["a", "b", "c"])
VECTORS = {"image": np.arange(12, dtype=np.float32).reshape(3, 4), "text": -np.arange(12, dtype=np.float32).reshape(3, 4)}


def write_all(tmp_path) -> list[str]:
    """The same vectors in the three layouts; the logit scale in each."""
    folder = tmp_path / "vectors"
    folder.mkdir()
    np.save(folder / "item_id.npy", IDS)
    for modality, vectors in VECTORS.items():
        np.save(folder / f"{modality}.npy", vectors)
    np.save(folder / "logit_scale.npy", np.float32(50.0))
    np.savez(tmp_path / "vectors.npz", item_id=IDS, logit_scale=np.float32(50.0), **VECTORS)
    table = pa.table({"item_id": IDS.tolist(), **{m: v.tolist() for m, v in VECTORS.items()}})
    pq.write_table(table.replace_schema_metadata({"logit_scale": "50.0"}), tmp_path / "vectors.parquet")
    return [str(folder), str(tmp_path / "vectors.npz"), str(tmp_path / "vectors.parquet")]


def test_every_layout_gives_the_vectors_of_the_requested_items(tmp_path):
    for path in write_all(tmp_path):
        encoder = load_model(f"precomputed:{path}")
        assert encoder.modalities == ["image", "text"] and encoder.dim == 4 and encoder.logit_scale == 50.0
        rows = [encoder.preprocess("text", item) for item in ["c", "a"]]
        got = encoder.encode("text", rows)
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, VECTORS["text"][[2, 0]])
        np.testing.assert_array_equal(encoder.encode("image", [encoder.preprocess("image", "b")]), VECTORS["image"][[1]])


def test_unknown_item_is_a_bad_item_and_unknown_modality_an_error(tmp_path):
    encoder = load_model(f"precomputed:{write_all(tmp_path)[1]}")
    with pytest.raises(BadItem, match="no precomputed vector for item 'z'"):
        encoder.preprocess("image", "z")
    with pytest.raises(GapscopeError, match="no modality 'audio' \\(has image, text\\)"):
        encoder.preprocess("audio", "a")


def test_bad_files_are_clear_errors(tmp_path):
    with pytest.raises(GapscopeError, match="vectors file .*absent.npz does not exist"):
        load_model(f"precomputed:{tmp_path / 'absent.npz'}")
    np.savez(tmp_path / "noids.npz", image=VECTORS["image"])
    with pytest.raises(GapscopeError, match="no item_id array \\(has image\\)"):
        load_model(f"precomputed:{tmp_path / 'noids.npz'}")
    np.savez(tmp_path / "ragged.npz", item_id=IDS, image=VECTORS["image"], text=np.zeros((2, 4), np.float32))
    with pytest.raises(GapscopeError, match="each modality needs a \\(3, dim\\) array"):
        load_model(f"precomputed:{tmp_path / 'ragged.npz'}")
    (tmp_path / "vectors.csv").write_text("item_id\n")
    with pytest.raises(GapscopeError, match="unsupported vectors file vectors.csv"):
        load_model(f"precomputed:{tmp_path / 'vectors.csv'}")
    with pytest.raises(GapscopeError, match="take no pretrained weights"):
        load_model(f"precomputed:{write_all(tmp_path)[1]}", pretrained="openai")
