"""ImageBind (Girdhar et al. 2023): image, text and audio in one space, through Meta's `imagebind` package.

The package (PyPI `imagebind-unofficial`, a packaging of facebookresearch/ImageBind) imports torchaudio,
pytorchvideo and pkg_resources (setuptools < 81) at import time; where it cannot be imported, loading raises a
one-line error saying what to install.
The architecture is `imagebind_model.imagebind_huge(pretrained=False)` (nothing is downloaded), and `pretrained`
is the path of `imagebind_huge.pth` (a plain state dict; "state_dict"/"model" wrappers and "module." prefixes are
unwrapped) or "none". Preprocessing follows `imagebind.data`: images resized (bicubic) and centre-cropped to 224
with CLIP's normalisation (on the device), text with ImageBind's BPE tokenizer, audio resampled to 16 kHz and cut
into 3 clips of 2 s as 128-bin log-mel spectrograms normalised by (x + 4.268) / 9.138. ImageBind's heads scale
text by a learned logit scale and audio by a fixed 20 after normalising; embeddings are returned unit-norm and the
recorded logit scale is the learned text one (the image-text scale).
"""
from __future__ import annotations

from typing import Any

from dashboard.errors import GapscopeError

VARIANTS = ("huge",)
MODALITY_KEYS = {"image": "vision", "text": "text", "audio": "audio"}
IMAGE_MEAN = (0.48145466, 0.4578275, 0.40821073)
IMAGE_STD = (0.26862954, 0.26130258, 0.27577711)
AUDIO = {"sample_rate": 16000, "num_mel_bins": 128, "target_length": 204, "clip_duration": 2,
         "clips_per_video": 3, "mean": -4.268, "std": 9.138}


def known_names() -> list[str]:
    """The released ImageBind variant."""
    return list(VARIANTS)


def package(what: str) -> tuple[Any, Any]:
    """(imagebind_model, imagebind.data) modules; a one-line error saying what to install when absent."""
    try:
        from imagebind import data
        from imagebind.models import imagebind_model
    except ImportError as error:
        raise GapscopeError(f"model {what}: needs the imagebind package (pip install imagebind-unofficial, with "
                            f"torchaudio and pytorchvideo matching your torch, and setuptools<81): {error}") from None
    return imagebind_model, data


def load(name: str, pretrained: str | None, device: str, precision: str) -> Any:
    """An ImageBind model as an image-text-audio Encoder."""
    from ingest.models import runtime
    what = f"imagebind:{name}"
    if name not in VARIANTS:
        raise GapscopeError(f"model {what}: unknown ImageBind variant (known: {', '.join(VARIANTS)})")
    if pretrained is None:
        raise GapscopeError(f"model {what}: pass the path of imagebind_huge.pth (downloads are off) or none")
    imagebind_model, data = package(what)
    model = imagebind_model.imagebind_huge(pretrained=False).eval()
    if pretrained != "none":
        runtime.load_into(what, model, runtime.read_state_dict(what, pretrained))
    torch_device = runtime.resolve_device(device)
    model = model.to(torch_device)
    text_scale = model.modality_postprocessors["text"][1]
    return runtime.TorchEncoder(
        model=model, name=name, family="imagebind", source=f"{what} pretrained={pretrained}", dim=1024,
        logit_scale=min(runtime.logit_scale_of(text_scale.log_logit_scale, 1.0), text_scale.max_logit_scale),
        device=torch_device, dtype=runtime.autocast_dtype(torch_device, precision),
        steps=steps(model, data, torch_device))


def steps(model: Any, data: Any, device: Any) -> dict[str, Any]:
    """The image, text and audio steps of a loaded ImageBind model."""
    import torch
    from torchvision import transforms as T
    from ingest.models import runtime
    resize = T.Compose([T.Resize(224, interpolation=T.InterpolationMode.BICUBIC), T.CenterCrop(224)])
    mean, std = torch.tensor(IMAGE_MEAN, device=device), torch.tensor(IMAGE_STD, device=device)

    def embed(modality: str, normalise: Any = None) -> Any:
        """The device function of a modality: its ImageBind embedding, unit-norm (undoing the head's scaling)."""
        key = MODALITY_KEYS[modality]
        return lambda x: torch.nn.functional.normalize(
            model({key: x if normalise is None else normalise(x)})[key].float(), dim=-1)
    return {
        "image": runtime.Step(prepare=lambda image: runtime.image_to_uint8(resize(runtime.require_image(image))),
                              embed=embed("image", lambda x: runtime.normalise_on_device(x, mean, std))),
        "text": runtime.Step(prepare=lambda text: data.load_and_transform_text([runtime.require_text(text)],
                                                                                 "cpu")[0],
                             embed=embed("text")),
        "audio": runtime.Step(prepare=lambda audio: audio_clips(data, audio), embed=embed("audio")),
    }


def audio_clips(data: Any, decoded: Any) -> Any:
    """ImageBind's audio input for one waveform: (clips, 1, mel bins, frames), as imagebind.data makes it."""
    import torch
    from ingest.models.hf_clap import require_audio, resample
    waveform, rate = require_audio(decoded)
    waveform = torch.from_numpy(resample(waveform, rate, AUDIO["sample_rate"]))[None, :]
    sampler = data.ConstantClipsPerVideoSampler(clip_duration=AUDIO["clip_duration"],
                                                clips_per_video=AUDIO["clips_per_video"])
    clips = []
    for start, end in data.get_clip_timepoints(sampler, waveform.size(1) / AUDIO["sample_rate"]):
        clip = waveform[:, int(start * AUDIO["sample_rate"]):int(end * AUDIO["sample_rate"])]
        melspec = data.waveform2melspec(clip, AUDIO["sample_rate"], AUDIO["num_mel_bins"], AUDIO["target_length"])
        clips.append((melspec - AUDIO["mean"]) / AUDIO["std"])
    return torch.stack(clips)
