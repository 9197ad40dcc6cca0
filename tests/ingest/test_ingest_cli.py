"""`gapscope ingest` through the real command line: listings, flags, sampling, errors."""
from __future__ import annotations

import json

import numpy as np
import pytest

from dashboard.cli import main
from dashboard.errors import GapscopeError
from dashboard.store import Store
from ingest.base import Record
from ingest.engine import select
from ingest_helpers import build_coco


def test_lists_datasets_and_models(capsys):
    assert main(["ingest", "--list-datasets"]) == 0
    assert "mscoco" in json.loads(capsys.readouterr().out)["datasets"]
    assert main(["ingest", "--list-models"]) == 0
    assert "ViT-B-32" in json.loads(capsys.readouterr().out)["models"]["open_clip"]


def test_missing_flags_and_unknown_types_are_one_line_errors(tmp_path, capsys):
    assert main(["ingest", "--store", str(tmp_path / "s"), "--source", "x"]) == 2
    assert capsys.readouterr().err.strip() == "gapscope: error: ingest: missing --dataset-type, --model"
    assert main(["ingest", "--store", str(tmp_path / "s"), "--dataset-type", "nope", "--source", "x", "--model", "open_clip:RN50"]) == 2
    assert "dataset type 'nope': unknown" in capsys.readouterr().err


def test_sample_and_limit_choose_a_seeded_subset(tmp_path, clip_spec, capsys):
    root = build_coco(tmp_path / "coco", n=6)
    argv = ["ingest", "--store", str(tmp_path / "store"), "--dataset-type", "mscoco", "--source", str(root),
            "--model", clip_spec, "--sample", "4", "--seed", "5", "--limit", "3", "--device", "cpu", "--workers", "1",
            "--batch-size", "2", "--no-precompute", "--option", "caption_index=1"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert result["selected"] == 3 and result["embedded"] == 3 and "items/s" in captured.err
    picked = np.sort(np.random.default_rng(5).choice(6, size=4, replace=False))[:3]
    items = Store.open(tmp_path / "store").items("mscoco-val2017")
    assert items["item_id"].tolist() == [str(139 + k) for k in picked] and items["ordinal"].tolist() == list(picked)
    assert items["text"].tolist() == [f"second caption {k}" for k in picked]


def test_duplicate_ids_are_an_error():
    with pytest.raises(GapscopeError, match="^dataset: item id 'a' occurs more than once$"):
        select([Record("a"), Record("b"), Record("a")], None, None, 0)


def test_precompute_runs_after_embedding_unless_it_cannot(tmp_path, clip_spec, capsys):
    from ingest_helpers import build_audioset

    root = build_coco(tmp_path / "coco", n=6)
    base = ["ingest", "--store", str(tmp_path / "store"), "--model", clip_spec, "--device", "cpu", "--workers", "0",
            "--no-umap", "--no-tsne", "--no-progress"]
    assert main(base + ["--dataset-type", "mscoco", "--source", str(root)]) == 0
    assert json.loads(capsys.readouterr().out)["precomputed"] is True
    kinds = Store.open(tmp_path / "store").artifacts()
    assert {("metrics", "summary"), ("projection", "pca:gap"), ("projection", "pca:closed")} <= set(zip(kinds["kind"], kinds["key"]))
    audio = build_audioset(tmp_path / "audioset", n=4)
    assert main(base + ["--dataset-type", "audioset", "--source", str(audio)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["embedded"] == 4 and result["precomputed"] is False and "precompute" in result["precompute_error"]
