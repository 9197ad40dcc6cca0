"""ImageBind family: the imagebind package is not installable beside torch 2.14 here, so this checks the guard,
the argument errors and the checkpoint key handling; the model code path needs the package."""
from __future__ import annotations

import sys

import pytest
import torch

from dashboard.errors import GapscopeError
from ingest.models import load_model, runtime


def test_without_the_package_loading_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "imagebind", None)
    with pytest.raises(GapscopeError, match="imagebind:huge: needs the imagebind package "
                                            "\\(pip install imagebind-unofficial"):
        load_model("imagebind:huge", pretrained="none")


def test_unknown_variant_and_missing_weights_are_clear_errors(tmp_path):
    with pytest.raises(GapscopeError, match="unknown ImageBind variant \\(known: huge\\)"):
        load_model("imagebind:large", pretrained="none")
    with pytest.raises(GapscopeError, match="pass the path of imagebind_huge.pth"):
        load_model("imagebind:huge")


def test_imagebind_checkpoint_keys_are_unwrapped(tmp_path):
    weights = {"modality_trunks.vision.blocks.0.attn.in_proj_weight": torch.ones(3, 1),
               "modality_postprocessors.text.1.log_logit_scale": torch.tensor(2.65)}
    torch.save(weights, tmp_path / "imagebind_huge.pth")
    assert runtime.read_state_dict("imagebind:huge", tmp_path / "imagebind_huge.pth").keys() == weights.keys()
    torch.save({"model": {f"module.{k}": v for k, v in weights.items()}}, tmp_path / "finetuned.pth")
    assert runtime.read_state_dict("imagebind:huge", tmp_path / "finetuned.pth").keys() == weights.keys()
