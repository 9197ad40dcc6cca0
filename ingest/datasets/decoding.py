"""Guarded decoders shared by the dataset modules: every failure becomes a BadItem with a one-line reason.

Images are checked against an explicit pixel cap from their header before any pixel is decoded (decompression
bombs), audio goes through soundfile, SMILES through RDKit (each distinct string parsed once per process), microscopy from npz arrays with five channels, depth and
thermal maps from .npy arrays or single-channel images, IMU windows from .npy arrays.
"""
from __future__ import annotations

import atexit
import functools
import io
import os
import tarfile
import zipfile
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image

from dashboard.errors import GapscopeError
from dashboard.thumbnails import MAX_PIXELS, load_image, open_image
from ingest.base import BadItem

Image.MAX_IMAGE_PIXELS = MAX_PIXELS
MEMBER = "::"
SMILES_CACHE = 65536
_archives: dict[tuple[int, str], zipfile.ZipFile | tarfile.TarFile] = {}


def member_ref(archive: str | Path, member: str) -> str:
    """The reference of a file inside a zip or tar archive."""
    return f"{archive}{MEMBER}{member}"


def _archive(path: str) -> zipfile.ZipFile | tarfile.TarFile:
    """An open archive, cached per process (forked decoding workers must not share file offsets)."""
    key = (os.getpid(), path)
    if key not in _archives:
        try:
            _archives[key] = zipfile.ZipFile(path) if zipfile.is_zipfile(path) else tarfile.open(path)
        except (OSError, tarfile.TarError) as exc:
            raise BadItem(f"unreadable archive {path} ({str(exc).splitlines()[0]})") from exc
    return _archives[key]


@atexit.register
def _close_archives() -> None:
    """Close the archives this process opened."""
    for archive in _archives.values():
        archive.close()


def read_ref(ref: str | Path) -> bytes:
    """The bytes behind a reference: a file path or `archive::member`; a missing one raises BadItem."""
    text = str(ref)
    if MEMBER not in text:
        return open_bytes(text)
    path, member = text.split(MEMBER, 1)
    archive = _archive(path)
    try:
        if isinstance(archive, zipfile.ZipFile):
            return archive.read(member)
        handle = archive.extractfile(member)
        if handle is None:
            raise KeyError(member)
        return handle.read()
    except KeyError as exc:
        raise BadItem(f"missing file {member} in {path}") from exc
    except (OSError, zipfile.BadZipFile, tarfile.TarError) as exc:
        raise BadItem(f"corrupt archive member {member} in {path} ({exc})") from exc


def open_bytes(path: str | Path) -> bytes:
    """The bytes of a file; a missing or unreadable file is a BadItem."""
    try:
        return Path(path).read_bytes()
    except FileNotFoundError as exc:
        raise BadItem(f"missing file {path}") from exc
    except OSError as exc:
        raise BadItem(f"unreadable file {path} ({exc.strerror or exc})") from exc


def decode_image(data: bytes | str | Path, max_pixels: int = MAX_PIXELS, draft: int | None = None) -> Image.Image:
    """An RGB PIL image from bytes or a path (see dashboard.thumbnails.open_image); failures raise BadItem."""
    stream: BinaryIO = io.BytesIO(data if isinstance(data, bytes) else read_ref(data))
    try:
        return open_image(stream, max_pixels, draft)
    except GapscopeError as exc:
        raise BadItem(str(exc)) from exc


def decode_text(text: str | None) -> str:
    """A caption; missing or blank captions raise BadItem."""
    if text is None or not str(text).strip():
        raise BadItem("empty caption")
    return str(text)


def decode_audio(data: bytes | str | Path) -> tuple[np.ndarray, int]:
    """Mono float32 samples and the sample rate; missing, undecodable or empty audio raises BadItem."""
    import soundfile

    raw = data if isinstance(data, bytes) else read_ref(data)
    try:
        samples, rate = soundfile.read(io.BytesIO(raw), dtype="float32", always_2d=True)
    except Exception as exc:  # noqa: BLE001 - libsndfile errors come in several types
        raise BadItem(f"undecodable audio ({str(exc).splitlines()[0]})") from exc
    if samples.shape[0] == 0:
        raise BadItem("undecodable audio (no samples)")
    return np.ascontiguousarray(samples.mean(axis=1), dtype=np.float32), int(rate)


def check_smiles(smiles: str | None) -> str:
    """A SMILES string RDKit can parse; anything else raises BadItem."""
    if smiles is None or not str(smiles).strip():
        raise BadItem("invalid SMILES (empty)")
    if not _parses(str(smiles)):
        raise BadItem(f"invalid SMILES {smiles!r}")
    return str(smiles)


@functools.lru_cache(maxsize=SMILES_CACHE)
def _parses(smiles: str) -> bool:
    """Whether RDKit parses the SMILES; remembered, as datasets repeat molecules (CLOOME: many images per compound)."""
    from rdkit import Chem, RDLogger

    RDLogger.DisableLog("rdApp.*")
    return Chem.MolFromSmiles(smiles) is not None


def decode_microscopy(path: str | Path, channels: int = 5) -> np.ndarray:
    """A (H, W, channels) float32 array from an npz file (key `sample` or its first array); raises BadItem."""
    raw = read_ref(path)
    try:
        with np.load(io.BytesIO(raw)) as archive:
            array = archive["sample"] if "sample" in archive.files else archive[archive.files[0]]
    except Exception as exc:  # noqa: BLE001 - zip and pickle errors
        raise BadItem(f"corrupt npz ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") from exc
    if array.ndim == 3 and array.shape[0] == channels and array.shape[-1] != channels:
        array = np.moveaxis(array, 0, -1)
    if array.ndim != 3 or array.shape[-1] != channels:
        raise BadItem(f"microscopy image of shape {array.shape}, expected (H, W, {channels})")
    return np.ascontiguousarray(array, dtype=np.float32)


def decode_map(path: str | Path, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """A finite (H, W) float32 map (depth/disparity, thermal) from .npy, or from an image: 8-bit values scaled to
    [0, 1] as ToTensor does, 16-bit and float values kept as they are; raises BadItem."""
    raw = read_ref(path)
    if str(path).lower().endswith(".npy"):
        array = _npy(raw)
    else:
        try:
            image = load_image(io.BytesIO(raw), max_pixels)
        except GapscopeError as exc:
            raise BadItem(str(exc)) from exc
        eight_bit = image.mode in ("L", "P", "RGB", "RGBA", "LA")
        scale = 255.0 if eight_bit else 1.0
        array = np.asarray(image.convert("L") if eight_bit else image, dtype=np.float32) / scale
    array = np.squeeze(array)
    if array.ndim != 2 or min(array.shape) < 2 or not np.isfinite(array).all():
        raise BadItem(f"map of shape {array.shape} is not a finite single-channel 2-D array")
    return np.ascontiguousarray(array, dtype=np.float32)


def decode_imu(path: str | Path, channels: int = 6) -> np.ndarray:
    """A finite (channels, T) float32 IMU window (accelerometer and gyroscope) from .npy; (T, channels) is
    transposed; raises BadItem."""
    array = _npy(read_ref(path))
    if array.ndim == 2 and array.shape[1] == channels and array.shape[0] != channels:
        array = array.T
    if array.ndim != 2 or array.shape[0] != channels or not np.isfinite(array).all():
        raise BadItem(f"IMU window of shape {array.shape} is not a finite ({channels}, T) array")
    return np.ascontiguousarray(array, dtype=np.float32)


def _npy(raw: bytes) -> np.ndarray:
    """A numeric array from .npy bytes (no pickles); raises BadItem."""
    try:
        array = np.load(io.BytesIO(raw), allow_pickle=False)
    except Exception as exc:  # noqa: BLE001 - format and value errors
        raise BadItem(f"corrupt npy ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") from exc
    if not np.issubdtype(array.dtype, np.number):
        raise BadItem(f"npy array of dtype {array.dtype} is not numeric")
    return array.astype(np.float32)
