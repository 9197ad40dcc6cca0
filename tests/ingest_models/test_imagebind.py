"""ImageBind family: a tiny ImageBindModel from a JSON config, built by Meta's package code, against the package's
own `imagebind.data` pipeline; checkpoints saved and loaded back; the released "huge" architecture; clear errors."""
from __future__ import annotations

import json
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from dashboard.errors import GapscopeError
from ingest.base import BadItem
from ingest.models import load_model, runtime
from ingest.models.imagebind import package

TINY = {"vision_embed_dim": 32, "vision_num_blocks": 1, "vision_num_heads": 2, "text_embed_dim": 32,
        "text_num_blocks": 1, "text_num_heads": 2, "audio_embed_dim": 32, "audio_num_blocks": 1,
        "audio_num_heads": 2, "depth_embed_dim": 16, "depth_num_blocks": 1, "depth_num_heads": 2,
        "thermal_embed_dim": 16, "thermal_num_blocks": 1, "thermal_num_heads": 2, "imu_embed_dim": 16,
        "imu_num_blocks": 1, "imu_num_heads": 2, "out_embed_dim": 16}
TEXTS = ["a dog barking", "rain on a tin roof"]


@pytest.fixture
def tiny_config(tmp_path) -> str:
    """A JSON file of tiny ImageBindModel keyword arguments."""
    path = tmp_path / "imagebind-tiny.json"
    path.write_text(json.dumps(TINY))
    return str(path)


@pytest.fixture
def files(tmp_path) -> dict[str, list[str]]:
    """Two photos of odd sizes and two clips (2.5 s at 22.05 kHz, 5 s at 16 kHz) on disk."""
    import soundfile
    rng = np.random.default_rng(0)
    images, clips = [], []
    for k, (size, (seconds, rate)) in enumerate(zip([(300, 200), (180, 260)], [(2.5, 22050), (5.0, 16000)])):
        images.append(str(tmp_path / f"{k}.png"))
        Image.fromarray(rng.integers(0, 255, (*size, 3), dtype=np.uint8)).save(images[-1])
        clips.append(str(tmp_path / f"{k}.wav"))
        t = np.arange(int(seconds * rate)) / rate
        soundfile.write(clips[-1], (0.4 * np.sin(2 * np.pi * 330 * (k + 1) * t)).astype(np.float32), rate)
    return {"image": images, "audio": clips}


def read_with_soundfile(path: str) -> tuple[torch.Tensor, int]:
    """torchaudio.load's contract, (channels, frames) float32 and rate, decoded by soundfile (torchaudio 2.9+ needs
    torchcodec and FFmpeg for files, which are not installed here)."""
    import soundfile
    waveform, rate = soundfile.read(path, dtype="float32", always_2d=True)
    return torch.from_numpy(waveform.T.copy()), rate


def test_embeddings_match_imagebinds_own_data_pipeline(tiny_config, files, monkeypatch):
    import soundfile
    encoder = load_model(f"imagebind:{tiny_config}", pretrained="none")
    assert encoder.modalities == ["image", "text", "audio", "depth", "thermal", "imu"] and encoder.dim == 16
    _, data = package("test")
    monkeypatch.setattr(data.torchaudio, "load", read_with_soundfile)
    with torch.inference_mode():
        want = encoder.model({"vision": data.load_and_transform_vision_data(files["image"], "cpu"),
                              "text": data.load_and_transform_text(TEXTS, "cpu"),
                              "audio": data.load_and_transform_audio_data(files["audio"], "cpu")})
    images = [encoder.preprocess("image", Image.open(path)) for path in files["image"]]
    clips = [encoder.preprocess("audio", soundfile.read(path, dtype="float32")) for path in files["audio"]]
    got = {"vision": encoder.encode("image", images), "audio": encoder.encode("audio", clips),
           "text": encoder.encode("text", [encoder.preprocess("text", text) for text in TEXTS])}
    for key, vectors in got.items():
        expected = torch.nn.functional.normalize(want[key], dim=-1).numpy()
        np.testing.assert_allclose(vectors, expected, atol=2e-5, err_msg=key)
    assert np.linalg.norm(got["audio"], axis=1) == pytest.approx([1.0, 1.0], abs=1e-5)
    assert encoder.logit_scale == pytest.approx(1 / 0.07, rel=1e-5)


def test_checkpoint_saved_and_loaded_back(tiny_config, files, tmp_path):
    random = load_model(f"imagebind:{tiny_config}", pretrained="none")
    with torch.no_grad():
        random.model.modality_postprocessors["text"][1].log_logit_scale.fill_(np.log(50.0))
    torch.save({"model": {f"module.{k}": v for k, v in random.model.state_dict().items()}}, tmp_path / "ib.pth")
    again = load_model(f"imagebind:{tiny_config}", pretrained=str(tmp_path / "ib.pth"))
    batch = [random.preprocess("image", Image.open(path)) for path in files["image"]]
    np.testing.assert_allclose(again.encode("image", batch), random.encode("image", batch), atol=1e-6)
    assert again.logit_scale == pytest.approx(50.0, rel=1e-5)
    other = dict(TINY, out_embed_dim=8)
    (tmp_path / "other.json").write_text(json.dumps(other))
    with pytest.raises(GapscopeError, match="checkpoint does not fit the architecture"):
        load_model(f"imagebind:{tmp_path / 'other.json'}", pretrained=str(tmp_path / "ib.pth"))


def test_huge_is_the_released_architecture():
    encoder = load_model("imagebind:huge", pretrained="none")
    assert encoder.dim == 1024 and encoder.modalities[:3] == ["image", "text", "audio"]
    trunks = encoder.model.modality_trunks
    assert (len(trunks["vision"].blocks), len(trunks["text"].blocks), len(trunks["audio"].blocks)) == (32, 24, 12)
    assert sum(p.numel() for p in encoder.model.parameters()) > 1.1e9


def test_depth_thermal_and_imu_reach_their_own_trunks(tiny_config):
    encoder = load_model(f"imagebind:{tiny_config}", pretrained="none")
    rng = np.random.default_rng(2)
    depth, thermal, imu = rng.uniform(0, 5, (224, 224)), rng.uniform(0, 1, (300, 260)), rng.normal(size=(6, 2000))
    prepared = {m: encoder.preprocess(m, x.astype(np.float32)) for m, x in
                (("depth", depth), ("thermal", thermal), ("imu", imu))}
    assert prepared["depth"].shape == prepared["thermal"].shape == (1, 224, 224)
    np.testing.assert_array_equal(prepared["depth"][0].numpy(), depth.astype(np.float32))
    with torch.inference_mode():
        for modality, tensor in prepared.items():
            want = torch.nn.functional.normalize(encoder.model({modality: tensor[None]})[modality], dim=-1)
            np.testing.assert_allclose(encoder.encode(modality, [tensor]), want.numpy(), atol=1e-6)
    as_thermal = encoder.encode("thermal", [prepared["depth"]])
    assert not np.allclose(as_thermal, encoder.encode("depth", [prepared["depth"]]), atol=1e-3)


@pytest.mark.parametrize("modality, bad", [("imu", np.zeros((6, 1999), np.float32)),
                                           ("imu", np.full((6, 2000), np.inf, np.float32)),
                                           ("depth", np.zeros((2, 8, 8), np.float32)), ("thermal", "t.png")])
def test_bad_sensor_inputs_are_bad_items(tiny_config, modality, bad):
    encoder = load_model(f"imagebind:{tiny_config}", pretrained="none")
    with pytest.raises(BadItem):
        encoder.preprocess(modality, bad)


@pytest.mark.parametrize("bad", [(np.zeros(0, np.float32), 16000), (np.full(800, np.nan, np.float32), 16000),
                                 (np.ones(399, np.float32), 16000), (np.ones(900, np.float32), 48000),
                                 "clip.wav"])
def test_undecodable_audio_is_a_bad_item(tiny_config, bad):
    encoder = load_model(f"imagebind:{tiny_config}", pretrained="none")
    with pytest.raises(BadItem):
        encoder.preprocess("audio", bad)


def test_without_the_package_loading_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "imagebind", None)
    with pytest.raises(GapscopeError, match="imagebind:huge: needs the imagebind package "
                                            "\\(pip install --no-deps imagebind-unofficial"):
        load_model("imagebind:huge", pretrained="none")


def test_unknown_model_bad_config_and_missing_weights_are_clear_errors(tmp_path):
    with pytest.raises(GapscopeError, match="unknown ImageBind model \\(known: huge, or the path of a .json"):
        load_model("imagebind:large", pretrained="none")
    (tmp_path / "bad.json").write_text(json.dumps({"vision_width": 3}))
    with pytest.raises(GapscopeError, match="bad ImageBindModel config .*vision_width"):
        load_model(f"imagebind:{tmp_path / 'bad.json'}", pretrained="none")
    with pytest.raises(GapscopeError, match="pass the path of imagebind_huge.pth"):
        load_model("imagebind:huge")


def test_imagebind_checkpoint_keys_are_unwrapped(tmp_path):
    weights = {"modality_trunks.vision.blocks.0.attn.in_proj_weight": torch.ones(3, 1),
               "modality_postprocessors.text.1.log_logit_scale": torch.tensor(2.65)}
    torch.save(weights, tmp_path / "imagebind_huge.pth")
    assert runtime.read_state_dict("imagebind:huge", tmp_path / "imagebind_huge.pth").keys() == weights.keys()
