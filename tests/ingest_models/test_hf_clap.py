"""Hugging Face CLAP family: a tiny HTSAT ClapModel folder; audio resampled to the extractor's rate."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from ingest.base import BadItem
from ingest.models import load_model
from ingest.models.hf_clap import resample


def clips(rate: int) -> list[tuple[np.ndarray, int]]:
    """Two short synthetic clips (a tone and noise) at `rate`."""
    t = np.arange(int(1.5 * rate)) / rate
    noise = np.random.default_rng(1).standard_normal(rate).astype(np.float32) * 0.1
    return [((0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), rate), (noise, rate)]


def test_audio_and_text_match_plain_transformers(hf_clap_folder):
    from transformers import AutoTokenizer, ClapFeatureExtractor, ClapModel
    encoder = load_model(f"hf-clap:{hf_clap_folder}")
    assert encoder.modalities == ["audio", "text"] and encoder.dim == 24
    audio = clips(16000)
    got = encoder.encode("audio", [encoder.preprocess("audio", clip) for clip in audio])
    got_text = encoder.encode("text", [encoder.preprocess("text", "the sound of a bird")])
    model = ClapModel.from_pretrained(hf_clap_folder).eval()
    extractor = ClapFeatureExtractor.from_pretrained(hf_clap_folder)
    at_48k = [resample(wave, 16000, 48000) for wave, _ in audio]
    assert len(at_48k[0]) == 72000
    features = extractor(at_48k, sampling_rate=48000, return_tensors="pt")
    tokens = AutoTokenizer.from_pretrained(hf_clap_folder)(["the sound of a bird"], return_tensors="pt")
    with torch.inference_mode():
        want = model.get_audio_features(input_features=features["input_features"], is_longer=features["is_longer"])
        want_text = model.get_text_features(**tokens)
    np.testing.assert_allclose(got, getattr(want, "pooler_output", want).numpy(), atol=1e-5)
    np.testing.assert_allclose(got_text, getattr(want_text, "pooler_output", want_text).numpy(), atol=1e-5)
    assert encoder.logit_scale == pytest.approx(float(model.logit_scale_a.detach().exp()), rel=1e-6)


def test_resampling_keeps_a_tone_at_its_frequency():
    rate, target = 22050, 48000
    tone = np.sin(2 * np.pi * 1000 * np.arange(rate) / rate).astype(np.float32)
    out = resample(tone, rate, target)
    assert len(out) == target and out.dtype == np.float32
    assert np.argmax(np.abs(np.fft.rfft(out))) == 1000


def test_checkpoint_folder_saved_and_loaded_back(hf_clap_folder, tmp_path):
    random = load_model(f"hf-clap:{hf_clap_folder}", pretrained="none")
    random.model.save_pretrained(tmp_path / "clap")
    again = load_model(f"hf-clap:{hf_clap_folder}", pretrained=str(tmp_path / "clap"))
    batch = [random.preprocess("audio", clip) for clip in clips(48000)]
    np.testing.assert_allclose(again.encode("audio", batch), random.encode("audio", batch), atol=1e-6)


@pytest.mark.parametrize("bad", [(np.zeros(0, np.float32), 16000), (np.zeros((2, 100), np.float32), 16000),
                                 (np.full(100, np.nan, np.float32), 16000), "clip.wav"])
def test_undecodable_audio_is_a_bad_item(hf_clap_folder, bad):
    encoder = load_model(f"hf-clap:{hf_clap_folder}", pretrained="none")
    with pytest.raises(BadItem):
        encoder.preprocess("audio", bad)
