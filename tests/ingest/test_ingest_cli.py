"""`gapscope ingest` through the real command line: listings, flags, sampling, errors."""
from __future__ import annotations

import json

import numpy as np
import pytest

from dashboard.cli import main
from dashboard.errors import GapscopeError
from dashboard.store import Store
from ingest.base import Record
from ingest.plan import select
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


def test_two_checkpoints_of_one_architecture_need_their_own_model_names(tmp_path, clip_spec, capsys):
    import torch

    from ingest.models import load_model
    from ingest_helpers import build_generic

    root = build_generic(tmp_path / "generic", n=3)
    for seed in (1, 2):
        torch.manual_seed(seed)
        torch.save(load_model(clip_spec, pretrained="none").model.state_dict(), tmp_path / f"ckpt{seed}.pt")
    base = ["ingest", "--store", str(tmp_path / "store"), "--dataset-type", "generic", "--source", str(root),
            "--model", clip_spec, "--name", "g", "--device", "cpu", "--workers", "0", "--no-precompute", "--no-progress"]
    assert main(base + ["--pretrained", str(tmp_path / "ckpt1.pt")]) == 0
    capsys.readouterr()
    assert main(base + ["--pretrained", str(tmp_path / "ckpt2.pt")]) == 2
    error = capsys.readouterr().err.strip()
    assert "the store already has a model of that name from" in error and "ckpt1.pt" in error and "ckpt2.pt" in error
    assert error.endswith("pass --model-name to store it under another name") and "\n" not in error
    assert main(base + ["--pretrained", str(tmp_path / "ckpt2.pt"), "--model-name", "tiny-seed2"]) == 0
    assert main(base + ["--pretrained", str(tmp_path / "ckpt1.pt")]) == 0
    assert main(base + ["--pretrained", "openai"]) == 2
    assert "takes its weights from the name; --pretrained can only be" in capsys.readouterr().err
    store = Store.open(tmp_path / "store")
    first = store.embeddings("g", clip_spec.split(":", 1)[1], "image")[1]
    second = store.embeddings("g", "tiny-seed2", "image")[1]
    assert first.shape == second.shape == (3, 32) and not np.allclose(first, second, atol=1e-3)
