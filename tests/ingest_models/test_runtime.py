"""Shared runtime: precision names, devices, checkpoint unwrapping and fit checks."""
from __future__ import annotations

import pytest
import torch

from dashboard.errors import GapscopeError
from ingest.models import runtime


def test_precision_maps_to_autocast_dtype():
    cpu = torch.device("cpu")
    assert runtime.autocast_dtype(cpu, "auto") is None
    assert runtime.autocast_dtype(cpu, "fp32") is None
    assert runtime.autocast_dtype(cpu, "bf16") is torch.bfloat16
    assert runtime.autocast_dtype(cpu, "fp16") is torch.float16
    with pytest.raises(GapscopeError, match="precision 'int4': unknown \\(known: auto, fp32, bf16, fp16\\)"):
        runtime.autocast_dtype(cpu, "int4")


def test_bad_device_is_a_clear_error():
    with pytest.raises(GapscopeError, match="device 'gpu0': not a torch device"):
        runtime.resolve_device("gpu0")


def test_unwrap_removes_wrappers_prefixes_and_openai_extras():
    weights = {"module.visual.proj": torch.ones(2), "module.input_resolution": torch.tensor(224)}
    unwrapped = runtime.unwrap_state_dict("x", {"epoch": 3, "state_dict": weights, "optimizer": {}})
    assert list(unwrapped) == ["visual.proj"]
    assert runtime.unwrap_state_dict("x", {"model": {"a.b": torch.zeros(1)}}).keys() == {"a.b"}


def test_empty_or_foreign_checkpoint_is_an_error(tmp_path):
    with pytest.raises(GapscopeError, match="holds no state dict"):
        runtime.unwrap_state_dict("fam:x", {"state_dict": {}})
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a checkpoint")
    with pytest.raises(GapscopeError, match="cannot read checkpoint .*garbage.pt"):
        runtime.read_state_dict("fam:x", garbage)


def test_load_into_names_missing_and_unexpected_keys():
    model = torch.nn.Linear(2, 2)
    with pytest.raises(GapscopeError, match="1 missing keys \\['bias'\\], 1 unexpected keys \\['extra'\\]"):
        runtime.load_into("fam:x", model, {"weight": torch.zeros(2, 2), "extra": torch.zeros(1)})
    with pytest.raises(GapscopeError, match="does not fit the architecture"):
        runtime.load_into("fam:x", model, {"weight": torch.zeros(3, 2), "bias": torch.zeros(2)})
    runtime.load_into("fam:x", model, {"weight": torch.zeros(2, 2)}, may_miss=("bias",))
    assert float(model.weight.detach().abs().sum()) == 0.0


@pytest.mark.filterwarnings("ignore::UserWarning", "ignore::FutureWarning")
def test_torchscript_archive_gives_its_state_dict(tmp_path):
    scripted = torch.jit.script(torch.nn.Linear(2, 3))
    scripted.save(str(tmp_path / "openai-style.pt"))
    weights = runtime.read_state_dict("open_clip:RN50", tmp_path / "openai-style.pt")
    assert sorted(weights) == ["bias", "weight"]
    torch.testing.assert_close(weights["weight"], scripted.weight.detach())


def test_missing_checkpoint_lists_what_its_folder_holds(tmp_path):
    (tmp_path / "epoch_32.pt").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("")
    with pytest.raises(GapscopeError, match=f"checkpoint {tmp_path}/epoch_64.pt does not exist "
                                            f"\\({tmp_path} holds: epoch_32.pt; or a tag, or none\\)"):
        runtime.existing_path("open_clip:RN50", str(tmp_path / "epoch_64.pt"))
    with pytest.raises(GapscopeError, match="\\(no folder .*nowhere; or a tag, or none\\)"):
        runtime.existing_path("open_clip:RN50", str(tmp_path / "nowhere" / "x.pt"))
