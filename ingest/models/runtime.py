"""Shared machinery of the model families: device and precision, checkpoint files, and a batched torch Encoder.

Every family builds a `TorchEncoder` from one `Step` per modality: `prepare` runs on CPU in decoding workers,
`collate` stacks prepared inputs, `embed` runs on the device under `torch.inference_mode` and, on CUDA (or when
asked), `torch.autocast` in bf16/fp16; embeddings come back as float32 numpy arrays.
Torch is imported here, so only family modules import this module (never the registry).
"""
from __future__ import annotations

import contextlib
import pickle
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import torch

from dashboard.errors import GapscopeError
from ingest.base import BadItem

PRECISIONS = ("auto", "fp32", "bf16", "fp16")
CHECKPOINT_SUFFIXES = (".pt", ".pth", ".bin", ".ckpt", ".safetensors", ".tar")
DROPPED_KEYS = ("input_resolution", "context_length", "vocab_size")


def resolve_device(device: str) -> torch.device:
    """The torch device named by `device`; a CUDA device that is not there is an error."""
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise GapscopeError(f"device {device!r}: not a torch device ({error})") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise GapscopeError(f"device {device!r}: CUDA is not available on this machine (use --device cpu)")
    return resolved


def autocast_dtype(device: torch.device, precision: str) -> torch.dtype | None:
    """The autocast dtype for a precision name: auto is bf16 (else fp16) on CUDA and fp32 (None) on CPU."""
    if precision not in PRECISIONS:
        raise GapscopeError(f"precision {precision!r}: unknown (known: {', '.join(PRECISIONS)})")
    if precision == "auto":
        if device.type != "cuda":
            return None
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]


@contextlib.contextmanager
def inference(device: torch.device, dtype: torch.dtype | None) -> Iterator[None]:
    """Inference mode, with autocast to `dtype` when one is set."""
    with torch.inference_mode():
        if dtype is None:
            yield
        else:
            with torch.autocast(device_type=device.type, dtype=dtype):
                yield


def to_device(inputs: Any, device: torch.device) -> Any:
    """A tensor, or a dict of tensors, moved to the device."""
    if isinstance(inputs, dict):
        return {key: to_device(value, device) for key, value in inputs.items()}
    if isinstance(inputs, torch.Tensor):
        return inputs.to(device, non_blocking=True)
    return inputs


def looks_like_path(value: str) -> bool:
    """Whether a pretrained value names a file or folder rather than a tag."""
    return os.sep in value or "/" in value or value.endswith(CHECKPOINT_SUFFIXES) or os.path.exists(value)


def existing_path(what: str, path: str) -> Path:
    """The path of an existing checkpoint file or folder; else a one-line error."""
    resolved = Path(path).expanduser()
    if not resolved.exists():
        raise GapscopeError(f"model {what}: checkpoint {path} does not exist ({nearby_checkpoints(resolved.parent)}; "
                            f"or a tag, or none)")
    return resolved


def nearby_checkpoints(folder: Path) -> str:
    """What checkpoints a folder holds, for an error message."""
    if not folder.is_dir():
        return f"no folder {folder}"
    found = sorted(p.name for p in folder.iterdir() if p.suffix in CHECKPOINT_SUFFIXES + (".npz", ".parquet", ".json")
                   or p.is_dir())
    return f"{folder} holds: {', '.join(found[:12]) or 'no checkpoints'}{' ...' if len(found) > 12 else ''}"


def read_state_dict(what: str, path: str | Path) -> dict[str, torch.Tensor]:
    """The state dict in a checkpoint file: unwraps 'state_dict'/'model' keys and 'module.' prefixes."""
    return unwrap_state_dict(what, read_checkpoint(what, path))


def read_checkpoint(what: str, path: str | Path) -> Any:
    """The object saved in a checkpoint file (torch, TorchScript or safetensors); unreadable files are an error."""
    path = existing_path(what, str(path))
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file
            checkpoint = load_file(str(path))
        else:
            checkpoint = _torch_load(path)
    except (RuntimeError, OSError, ValueError, EOFError, pickle.UnpicklingError) as error:
        raise GapscopeError(f"model {what}: cannot read checkpoint {path} ({str(error).splitlines()[0]})") from None
    return checkpoint


def _torch_load(path: Path) -> Any:
    """A checkpoint read with torch.load (weights only), or the state dict of a TorchScript archive."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except RuntimeError as error:
        if "TorchScript" not in str(error) and "constants.pkl" not in str(error):
            raise
        return torch.jit.load(str(path), map_location="cpu").state_dict()


def unwrap_state_dict(what: str, checkpoint: Any) -> dict[str, torch.Tensor]:
    """The parameter dict of a training checkpoint, without DataParallel 'module.' prefixes or OpenAI's extra keys."""
    for key in ("state_dict", "model", "module"):
        if isinstance(checkpoint, dict) and isinstance(checkpoint.get(key), dict):
            checkpoint = checkpoint[key]
    if not isinstance(checkpoint, dict) or not checkpoint:
        raise GapscopeError(f"model {what}: the checkpoint holds no state dict")
    if all(key.startswith("module.") for key in checkpoint):
        checkpoint = {key[len("module."):]: value for key, value in checkpoint.items()}
    return {key: value for key, value in checkpoint.items() if key not in DROPPED_KEYS}


def load_into(what: str, model: torch.nn.Module, state_dict: dict[str, torch.Tensor],
              may_miss: tuple[str, ...] = ()) -> None:
    """Load a state dict; keys missing (beyond `may_miss`) or unexpected, or shape mismatches, are an error."""
    try:
        result = model.load_state_dict(state_dict, strict=False)
    except RuntimeError as error:
        detail = " ".join(line.strip() for line in str(error).splitlines()[1:3])
        raise GapscopeError(f"model {what}: checkpoint does not fit the architecture ({detail})") from None
    missing = [key for key in result.missing_keys if key not in may_miss]
    if missing or result.unexpected_keys:
        raise GapscopeError(f"model {what}: checkpoint does not fit the architecture: {len(missing)} missing keys "
                            f"{missing[:3]}, {len(result.unexpected_keys)} unexpected keys {result.unexpected_keys[:3]}")


def require_text(decoded: Any) -> str:
    """A non-empty caption; else BadItem."""
    if not isinstance(decoded, str) or not decoded.strip():
        raise BadItem("empty caption")
    return decoded


def require_image(decoded: Any) -> Any:
    """An RGB PIL image; else BadItem."""
    from PIL import Image
    if not isinstance(decoded, Image.Image):
        raise BadItem(f"expected a decoded image, got {type(decoded).__name__}")
    return decoded.convert("RGB") if decoded.mode != "RGB" else decoded


def require_audio(decoded: Any) -> tuple[np.ndarray, int]:
    """A non-empty finite mono waveform with a positive sample rate; else BadItem."""
    if not isinstance(decoded, tuple) or len(decoded) != 2:
        raise BadItem("expected decoded audio as (waveform, sample_rate)")
    waveform, rate = np.asarray(decoded[0], dtype=np.float32), int(decoded[1])
    if waveform.ndim != 1 or waveform.size == 0 or rate <= 0 or not np.isfinite(waveform).all():
        raise BadItem(f"audio is not a non-empty finite mono waveform (shape {waveform.shape}, rate {rate})")
    return waveform, rate


def image_to_uint8(image: Any) -> torch.Tensor:
    """A PIL image as a uint8 CHW tensor (4x smaller than float to pass between processes)."""
    array = np.asarray(image, dtype=np.uint8)
    if array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    return torch.from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1)))


def normalise_on_device(pixels: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """uint8 CHW batch to normalised float (what ToTensor + Normalize give), computed on the device."""
    return (pixels.float().div_(255.0) - mean.view(1, -1, 1, 1)) / std.view(1, -1, 1, 1)


def stack(batch: list[torch.Tensor]) -> torch.Tensor:
    """Prepared tensors stacked into one batch tensor."""
    return torch.stack(batch)


@dataclass
class Step:
    """How one modality goes through a model: CPU prepare, collate to a batch, device embed."""

    prepare: Callable[[Any], Any]
    embed: Callable[[Any], torch.Tensor]
    collate: Callable[[list[Any]], Any] = stack


class TorchEncoder:
    """An Encoder over a torch model: preprocess on CPU, encode batches on the device in the chosen precision."""

    def __init__(self, *, name: str, family: str, source: str, dim: int, logit_scale: float, model: torch.nn.Module,
                 device: torch.device, dtype: torch.dtype | None, steps: dict[str, Step],
                 logit_bias: float | None = None) -> None:
        self.name, self.family, self.source, self.model = name, family, source, model
        self.dim, self.logit_scale, self.logit_bias = int(dim), float(logit_scale), logit_bias
        self.device, self.dtype, self.steps = device, dtype, steps
        self.modalities = list(steps)

    def _step(self, modality: str) -> Step:
        """The step of a modality; else a one-line error listing the model's modalities."""
        if modality not in self.steps:
            raise GapscopeError(f"model {self.family}:{self.name}: no modality {modality!r} "
                                f"(has {', '.join(self.modalities)})")
        return self.steps[modality]

    def preprocess(self, modality: str, decoded: Any) -> Any:
        """CPU-side preparation of one decoded input; raises BadItem."""
        return self._step(modality).prepare(decoded)

    def encode(self, modality: str, batch: Any) -> np.ndarray:
        """float32 embeddings of a batch of prepared inputs (a list, or the stacked tensor the engine collated),
        shape (len(batch), dim)."""
        step = self._step(modality)
        if len(batch) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        stacked = isinstance(batch, torch.Tensor) and step.collate is stack
        inputs = to_device(batch if stacked else step.collate(list(batch)), self.device)
        with inference(self.device, self.dtype):
            out = step.embed(inputs)
        return out.float().cpu().numpy()


def logit_scale_of(parameter: torch.Tensor | None, default: float) -> float:
    """exp of a learned log scale parameter, or `default` when the model has none."""
    return default if parameter is None else float(parameter.detach().float().exp().reshape(-1)[0])
