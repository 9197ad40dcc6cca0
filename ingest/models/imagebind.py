"""ImageBind (Girdhar et al. 2023): image, text, audio, depth, thermal and IMU in one space, via Meta's `imagebind`.

The package is facebookresearch/ImageBind (on PyPI as `imagebind-unofficial`). Its `imagebind.data` imports
pkg_resources (setuptools < 81), torchaudio and pytorchvideo; pytorchvideo 0.1.5 imports
`torchvision.transforms.functional_tensor`, which torchvision 0.17 renamed `_functional_tensor`, so the old name
is aliased to the new one before import (nothing else is changed). Where the package cannot be imported, loading
raises a one-line error saying what to install (`make imagebind` installs it beside the pinned torch).

The name is "huge" (the released model, built by `imagebind_model.imagebind_huge(pretrained=False)`, so nothing is
downloaded) or the path of a JSON file of `ImageBindModel` keyword arguments (a drop-in config, e.g. a tiny one for
tests). `pretrained` is a checkpoint path (`imagebind_huge.pth` is a plain state dict; "state_dict"/"model"
wrappers and "module." prefixes are unwrapped) or "none" for random weights.
Preprocessing is `imagebind.data`'s: images resized (bicubic) and centre-cropped to 224 with CLIP's normalisation
(computed on the device); text through ImageBind's BPE tokenizer (built once); audio resampled to 16 kHz with
torchaudio and cut by pytorchvideo's constant clip sampler into 3 clips of 2 s, each a 128-bin Kaldi log-mel
spectrogram of 204 frames normalised by (x + 4.268) / 9.138 (the model averages the clips). Decoded audio is
mono, where `imagebind.data` would take the first channel of a stereo file.
Depth, thermal and IMU inputs: Meta never released their preprocessing (ImageBind issues #14, #69, #73, #134), so
they are taken as the model's inputs are documented: depth as a disparity map and thermal as a single-channel
intensity map (8-bit images scaled to [0, 1]), each resized (bicubic, shorter side) and centre-cropped to 224 with
no further normalisation; IMU as a (6, 2000) window (accelerometer and gyroscope, 10 s at 200 Hz, Ego4D's), which
must have exactly 2,000 samples. Embeddings of these depend on how the user converts raw sensor data.
ImageBind's heads normalise every modality and then scale text by a learned logit scale (at most 100) and audio
by a fixed 20; embeddings here are unit-norm, and the recorded logit scale is the learned text one (image-text).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from dashboard.errors import GapscopeError

VARIANTS = ("huge",)
MODALITY_KEYS = {"image": "vision", "text": "text", "audio": "audio", "depth": "depth", "thermal": "thermal",
                 "imu": "imu"}
IMAGE_SIZE = 224
IMAGE_MEAN = (0.48145466, 0.4578275, 0.40821073)
IMAGE_STD = (0.26862954, 0.26130258, 0.27577711)
AUDIO = {"sample_rate": 16000, "num_mel_bins": 128, "target_length": 204, "clip_duration": 2,
         "clips_per_video": 3, "mean": -4.268, "std": 9.138}
MIN_SAMPLES = 400
IMU_SHAPE = (6, 2000)
INSTALL = ("pip install --no-deps imagebind-unofficial torchaudio pytorchvideo, then iopath einops "
           "'setuptools<81' (make imagebind)")


def known_names() -> list[str]:
    """The released ImageBind variant (a JSON file of ImageBindModel arguments is accepted too)."""
    return list(VARIANTS)


def alias_torchvision_functional_tensor() -> None:
    """Let pytorchvideo 0.1.5 import `torchvision.transforms.functional_tensor` (renamed in torchvision 0.17)."""
    import importlib.util
    if importlib.util.find_spec("torchvision.transforms.functional_tensor") is None:
        from torchvision.transforms import _functional_tensor
        sys.modules.setdefault("torchvision.transforms.functional_tensor", _functional_tensor)


def package(what: str) -> tuple[Any, Any]:
    """(imagebind_model, imagebind.data) modules; a one-line error saying what to install when absent."""
    try:
        alias_torchvision_functional_tensor()
        from imagebind import data
        from imagebind.models import imagebind_model
    except ImportError as error:
        raise GapscopeError(f"model {what}: needs the imagebind package ({INSTALL}): {error}") from None
    return imagebind_model, data


def build(what: str, name: str, imagebind_model: Any) -> Any:
    """The ImageBindModel of "huge" or of a JSON file of its keyword arguments, with random weights."""
    if name in VARIANTS:
        return imagebind_model.imagebind_huge(pretrained=False)
    path = Path(name)
    if path.suffix != ".json" or not path.is_file():
        raise GapscopeError(f"model {what}: unknown ImageBind model (known: {', '.join(VARIANTS)}, or the path of "
                            f"a .json of ImageBindModel arguments)")
    try:
        return imagebind_model.ImageBindModel(**json.loads(path.read_text()))
    except (TypeError, ValueError) as error:
        raise GapscopeError(f"model {what}: bad ImageBindModel config ({error})") from None


def load(name: str, pretrained: str | None, device: str, precision: str) -> Any:
    """An ImageBind model as an Encoder of its six modalities."""
    from ingest.models import runtime
    what = f"imagebind:{name}"
    if pretrained is None:
        raise GapscopeError(f"model {what}: pass the path of imagebind_huge.pth (downloads are off) or none")
    imagebind_model, data = package(what)
    model = build(what, name, imagebind_model).eval()
    if pretrained != "none":
        runtime.load_into(what, model, runtime.read_state_dict(what, pretrained))
    torch_device = runtime.resolve_device(device)
    model = model.to(torch_device)
    text_scale = model.modality_postprocessors["text"][1]
    return runtime.TorchEncoder(
        model=model, name=name, family="imagebind", source=f"{what} pretrained={pretrained}",
        dim=model.modality_heads["vision"][-1].out_features,
        logit_scale=min(runtime.logit_scale_of(text_scale.log_logit_scale, 1.0), text_scale.max_logit_scale),
        device=torch_device, dtype=runtime.autocast_dtype(torch_device, precision),
        steps=steps(model, data, torch_device))


def steps(model: Any, data: Any, device: Any) -> dict[str, Any]:
    """The steps of each modality of a loaded ImageBind model."""
    import torch
    from torchvision import transforms as T
    from ingest.models import runtime
    resize = T.Compose([T.Resize(IMAGE_SIZE, interpolation=T.InterpolationMode.BICUBIC), T.CenterCrop(IMAGE_SIZE)])
    mean, std = torch.tensor(IMAGE_MEAN, device=device), torch.tensor(IMAGE_STD, device=device)
    tokenizer = data.SimpleTokenizer(bpe_path=data.return_bpe_path())

    def embed(modality: str, normalise: Any = None) -> Any:
        """The device function of a modality: its ImageBind embedding, unit-norm (undoing the head's scaling)."""
        key = MODALITY_KEYS[modality]
        return lambda x: torch.nn.functional.normalize(
            model({key: x if normalise is None else normalise(x)})[key].float(), dim=-1)
    return {
        "image": runtime.Step(prepare=lambda image: runtime.image_to_uint8(resize(runtime.require_image(image))),
                              embed=embed("image", lambda x: runtime.normalise_on_device(x, mean, std))),
        "text": runtime.Step(prepare=lambda text: tokenizer(runtime.require_text(text)), embed=embed("text")),
        "audio": runtime.Step(prepare=lambda audio: audio_clips(data, audio), embed=embed("audio")),
        "depth": runtime.Step(prepare=lambda depth: single_channel(resize, depth), embed=embed("depth")),
        "thermal": runtime.Step(prepare=lambda thermal: single_channel(resize, thermal), embed=embed("thermal")),
        "imu": runtime.Step(prepare=imu_window, embed=embed("imu")),
    }


def single_channel(resize: Any, decoded: Any) -> Any:
    """A (1, 224, 224) float tensor of a depth or thermal map (resized and centre-cropped); else BadItem."""
    array = finite_array(decoded, lambda shape: len(shape) == 2, "a finite (H, W) map")
    return resize(array[None])


def imu_window(decoded: Any) -> Any:
    """A (6, 2000) float tensor of an IMU window; else BadItem."""
    return finite_array(decoded, lambda shape: shape == IMU_SHAPE, f"a finite {IMU_SHAPE} IMU window (10 s at 200 Hz)")


def finite_array(decoded: Any, fits: Any, expected: str) -> Any:
    """A decoded array as a float32 tensor when finite and `fits(shape)`; else BadItem saying what was expected."""
    import numpy as np
    import torch
    from ingest.base import BadItem
    array = np.asarray(decoded, dtype=np.float32) if isinstance(decoded, np.ndarray) else None
    if array is None or not fits(array.shape) or not np.isfinite(array).all():
        raise BadItem(f"expected {expected}, got {getattr(array, 'shape', type(decoded).__name__)}")
    return torch.from_numpy(array)


def audio_clips(data: Any, decoded: Any) -> Any:
    """ImageBind's audio input for one waveform: (clips, 1, mel bins, frames), as imagebind.data makes it."""
    import torch
    import torchaudio
    from ingest.base import BadItem
    from ingest.models import runtime
    waveform, rate = runtime.require_audio(decoded)
    waveform = torch.from_numpy(waveform)[None, :]
    if rate != AUDIO["sample_rate"]:
        waveform = torchaudio.functional.resample(waveform, orig_freq=rate, new_freq=AUDIO["sample_rate"])
    if waveform.size(1) < MIN_SAMPLES:
        raise BadItem(f"audio is {waveform.size(1)} samples at 16 kHz, shorter than ImageBind's 25 ms frame")
    sampler = data.ConstantClipsPerVideoSampler(clip_duration=AUDIO["clip_duration"],
                                                clips_per_video=AUDIO["clips_per_video"])
    clips = []
    for start, end in data.get_clip_timepoints(sampler, waveform.size(1) / AUDIO["sample_rate"]):
        clip = waveform[:, int(start * AUDIO["sample_rate"]):int(end * AUDIO["sample_rate"])]
        melspec = data.waveform2melspec(clip, AUDIO["sample_rate"], AUDIO["num_mel_bins"], AUDIO["target_length"])
        clips.append((melspec - AUDIO["mean"]) / AUDIO["std"])
    return torch.stack(clips)
