"""Hugging Face transformers CLAP audio-text models (ClapModel) by repository id or local folder.

Repository/folder and `pretrained` work as in hf_clip. Audio arrives decoded as (mono float32 waveform, sample
rate) and is resampled (polyphase, scipy) to the feature extractor's rate (48 kHz for LAION's CLAP) before the
log-mel features; the fused models also get the extractor's `is_longer` flags. CLAP learns two log scales; the
recorded logit scale is exp(logit_scale_a), the one of the audio-to-text logits.
"""
from __future__ import annotations

from math import gcd
from typing import Any

import numpy as np

KNOWN = ["laion/clap-htsat-unfused", "laion/clap-htsat-fused", "laion/larger_clap_general",
         "laion/larger_clap_music_and_speech"]


def known_names() -> list[str]:
    """Well-known CLAP repositories (any repository id or local folder is accepted)."""
    return list(KNOWN)


def resample(waveform: np.ndarray, rate: int, target: int) -> np.ndarray:
    """A mono waveform resampled from `rate` to `target` Hz (polyphase filtering)."""
    from scipy.signal import resample_poly
    if rate == target:
        return waveform.astype(np.float32, copy=False)
    common = gcd(int(rate), int(target))
    return resample_poly(waveform, target // common, int(rate) // common).astype(np.float32)


def load(name: str, pretrained: str | None, device: str, precision: str) -> Any:
    """A transformers ClapModel as an audio-text Encoder."""
    from ingest.models import hf_clip, runtime
    model, tokenizer, extractor, source = hf_clip.load_parts("hf-clap", "ClapModel", name, pretrained, KNOWN,
                                                             "AutoFeatureExtractor")
    torch_device = runtime.resolve_device(device)
    model = model.to(torch_device)
    max_length = min(tokenizer.model_max_length, model.config.text_config.max_position_embeddings - 2)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    steps = {
        "audio": runtime.Step(prepare=lambda audio: _audio_features(extractor, audio), collate=_audio_collate,
                              embed=lambda inputs: hf_clip.features(model.get_audio_features(**inputs))),
        "text": runtime.Step(
            prepare=lambda text: tokenizer(runtime.require_text(text), truncation=True,
                                           max_length=max_length)["input_ids"],
            embed=lambda inputs: hf_clip.features(model.get_text_features(**inputs)),
            collate=hf_clip.text_collate(pad_id, with_mask=True)),
    }
    return runtime.TorchEncoder(
        model=model, name=name, family="hf-clap", source=source, dim=hf_clip.embed_dim(steps["text"], torch_device),
        logit_scale=runtime.logit_scale_of(model.logit_scale_a, 1.0), device=torch_device,
        dtype=runtime.autocast_dtype(torch_device, precision), steps=steps)


def _audio_features(extractor: Any, decoded: Any) -> dict[str, Any]:
    """Log-mel input features (and is_longer flag) of one clip at the extractor's sampling rate."""
    from ingest.models import runtime
    waveform, rate = runtime.require_audio(decoded)
    waveform = resample(waveform, rate, extractor.sampling_rate)
    out = extractor(waveform, sampling_rate=extractor.sampling_rate, return_tensors="pt")
    return {"input_features": out["input_features"][0], "is_longer": out["is_longer"][0]}


def _audio_collate(batch: list[dict[str, Any]]) -> dict[str, Any]:
    """Prepared clips stacked into a batch."""
    import torch
    return {"input_features": torch.stack([item["input_features"] for item in batch]),
            "is_longer": torch.stack([item["is_longer"] for item in batch]).reshape(len(batch), 1)}
