"""Import an Amumo export folder (prompts.txt, images/, similarities/*.csv, projections.csv) into a store.

Amumo exports Gram matrices, not embeddings; `embeddings_from_gram` rebuilds an equivalent set (exact up to a
rotation, which no gapscope metric can see). Everything is read and checked before anything is written, so a
bad folder leaves the store as it was.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from dashboard.analysis.gram import embeddings_from_gram
from dashboard.errors import GapscopeError
from dashboard.importers.text_files import read_csv, read_meta, read_utf8
from dashboard.options import check_modalities
from dashboard.store.validate import check_vectors
from dashboard.thumbnails import open_image, thumbnail_bytes

# exp(logit_scale) of the models Amumo ships, by case-insensitive name prefix (CLOOME sets none). CyCLIP's checkpoint
# stores logit_scale = 4.6052, so its scale is exp(4.6052) = 100.003, not 100: Amumo's losses need the exact value.
KNOWN_SCALES = (("cloome", 1.0), ("cloob", 30.0), ("cyclip", float(np.exp(4.6052))), ("clip", 100.0), ("imagebind", 1.0))
SYMMETRY_TOLERANCE = 1e-6
COSINE_TOLERANCE = 1e-4  # Amumo's float32 exports are within 6e-7 of a unit diagonal and of [-1, 1]


@dataclass
class AmumoModel:
    """One similarity matrix of the export, turned into per-modality embeddings."""

    name: str
    vectors: dict[str, np.ndarray]
    meta: dict | None
    logit_scale: float
    stem: str
    path: Path


@dataclass
class AmumoExport:
    """Everything read from an export folder, checked and ready to write."""

    name: str
    modalities: list[str]
    items: pd.DataFrame
    models: list[AmumoModel] = field(default_factory=list)
    projections: pd.DataFrame | None = None


def default_logit_scale(model: str) -> float:
    """The logit scale Amumo used for a model name (1 when unknown)."""
    lowered = model.lower()
    return next((scale for prefix, scale in KNOWN_SCALES if lowered.startswith(prefix)), 1.0)


def _read_prompts(folder: Path) -> list[str]:
    """The captions (or SMILES), one per line: UTF-8 (a BOM is dropped); trailing empty lines are ignored."""
    path = folder / "prompts.txt"
    if not path.is_file():
        raise GapscopeError(f"{path}: missing (an Amumo export needs prompts.txt)")
    lines = read_utf8(path).splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise GapscopeError(f"{path}: no prompts")
    return lines


def fit_prompts(path: Path, lines: list[str], n: int, matrix: Path, k: int) -> list[str]:
    """The n captions of n items: Amumo writes a caption that holds a line break as is, leaving an empty line more
    than the matrix has items; such empty lines are dropped when that makes the count fit."""
    if len(lines) == n:
        return lines
    if len(lines) < n:
        raise GapscopeError(f"{matrix}: {n * k} rows, expected {len(lines) * k} (items x modalities)")
    empty = [i for i, line in enumerate(lines) if not line.strip()]
    if len(empty) == len(lines) - n:
        return [line for line in lines if line.strip()]
    where = f"line {empty[0] + 1} is empty" if empty else "no line is empty"
    raise GapscopeError(f"{path}: {len(lines)} lines for the {n} items of {matrix.name} ({where}; "
                        "a caption with a line break?)")


def _read_items(folder: Path, prompts: list[str], modalities: list[str], thumbnails: bool) -> pd.DataFrame:
    """Items with captions (or SMILES), image references, thumbnails and any infos.csv columns."""
    n = len(prompts)
    text_column = "molecule" if "molecule" in modalities else "text"
    frame = pd.DataFrame({"item_id": [str(i) for i in range(n)], text_column: prompts})
    if text_column == "molecule":
        frame["text"] = prompts
    images = folder / "images"
    if images.is_dir():
        paths = [images / f"{i}.jpg" for i in range(n)]
        missing = [p for p in paths if not p.is_file()]
        if missing:
            raise GapscopeError(f"{missing[0]}: missing image ({len(missing)} of {n} missing)")
        frame["image_ref"] = [str(p.resolve()) for p in paths]
        if thumbnails:
            frame["thumbnail"] = [_thumbnail(p) for p in paths]
    infos = folder / "infos.csv"
    if infos.is_file():
        extra = read_csv(infos, index_col=0)
        if len(extra) != n:
            raise GapscopeError(f"{infos}: {len(extra)} rows but prompts.txt has {n}")
        for column in extra.columns:
            frame[f"info_{column}"] = extra[column].to_numpy()
    return frame


def _thumbnail(path: Path) -> bytes:
    """A thumbnail of one export image; an unreadable image is an error naming the file."""
    try:
        return thumbnail_bytes(open_image(path))
    except GapscopeError as exc:
        raise GapscopeError(f"{path}: {exc}") from exc


def _read_matrix(path: Path, k: int) -> np.ndarray:
    """A similarity matrix, checked to be square, of whole blocks of k modalities, finite, symmetric and cosine."""
    try:
        matrix = np.loadtxt(path, delimiter=",", ndmin=2)
    except (ValueError, UnicodeDecodeError) as exc:
        raise GapscopeError(f"{path}: not a numeric CSV matrix ({exc})".splitlines()[0]) from exc
    if matrix.shape[0] != matrix.shape[1]:
        raise GapscopeError(f"{path}: not square ({matrix.shape[0]}x{matrix.shape[1]})")
    if matrix.shape[0] % k or not matrix.size:
        raise GapscopeError(f"{path}: {matrix.shape[0]} rows, not a whole number of items x {k} modalities")
    if not np.isfinite(matrix).all():
        raise GapscopeError(f"{path}: contains NaN or infinite values")
    asymmetry = float(np.abs(matrix - matrix.T).max())
    if asymmetry > SYMMETRY_TOLERANCE:
        raise GapscopeError(f"{path}: not symmetric (max |S - S^T| = {asymmetry:.3g})")
    check_cosine(path, matrix)
    return matrix


def check_cosine(path: Path, matrix: np.ndarray) -> None:
    """Refuse a matrix that is not one of cosine similarities: unit diagonal and values in [-1, 1], within rounding
    (a zero diagonal, an embedding left empty, is named as such)."""
    diagonal = np.diag(matrix)
    empty = np.flatnonzero(diagonal <= 1e-12)
    if empty.size:
        return
    off_unit = np.abs(diagonal - 1.0)
    if off_unit.max() > COSINE_TOLERANCE:
        row = int(off_unit.argmax())
        raise GapscopeError(f"{path}: not a cosine matrix: diagonal cell ({row}, {row}) is {diagonal[row]:.6g}, not 1")
    beyond = np.abs(matrix) - 1.0
    if beyond.max() > COSINE_TOLERANCE:
        row, column = np.unravel_index(int(beyond.argmax()), matrix.shape)
        raise GapscopeError(f"{path}: not a cosine matrix: cell ({row}, {column}) is {matrix[row, column]:.6g}, "
                            "outside [-1, 1]")


def _read_model(path: Path, matrix: np.ndarray, n: int, modalities: list[str], logit_scale: float | None,
                prefix: str) -> AmumoModel:
    """One model: its Gram matrix as embeddings per modality, plus Amumo's meta numbers if present."""
    empty = np.flatnonzero(np.diag(matrix) <= 1e-12)
    if empty.size:
        row = int(empty[0])
        raise GapscopeError(f"{path}: item {row % n} ({modalities[row // n]}) has a zero embedding (zero diagonal)")
    rows = embeddings_from_gram(matrix)
    vectors = {m: rows[k * n:(k + 1) * n] for k, m in enumerate(modalities)}
    ids = [str(i) for i in range(n)]
    for modality, block in vectors.items():
        check_vectors(f"{path} ({modality})", ids, block, rows.shape[1])
    meta = read_meta(path.with_name(f"{path.stem}_meta_info.json"))
    scale = logit_scale if logit_scale is not None else default_logit_scale(path.stem)
    return AmumoModel(prefix + path.stem, vectors, meta, scale, path.stem, path)


def _read_projections(folder: Path, n: int, modalities: list[str]) -> pd.DataFrame | None:
    """Amumo's projections in long form: model, method, item_id, modality, x, y (None if absent)."""
    path = folder / "projections.csv"
    if not path.is_file():
        return None
    wide = read_csv(path)
    if len(wide) != n * len(modalities):
        raise GapscopeError(f"{path}: {len(wide)} rows, expected {n * len(modalities)}")
    base = pd.DataFrame({"item_id": [str(i % n) for i in range(len(wide))],
                         "modality": [modalities[i // n] for i in range(len(wide))]})
    parts = []
    for column in [c for c in wide.columns if c.endswith("_x")]:
        stem = column[:-2]
        model, _, method = stem.rpartition("_")
        if f"{stem}_y" in wide.columns and model:
            _check_numeric(path, wide, [column, f"{stem}_y"])
            part = base.assign(model=model, method=method.lower(), x=wide[column].to_numpy(), y=wide[f"{stem}_y"].to_numpy())
            parts.append(part)
    return pd.concat(parts, ignore_index=True) if parts else None


def _check_numeric(path: Path, wide: pd.DataFrame, columns: list[str]) -> None:
    """Refuse projection columns that are not finite numbers, naming the column and row."""
    for column in columns:
        values = pd.to_numeric(wide[column], errors="coerce").to_numpy(dtype=float)
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            raise GapscopeError(f"{path}: column {column} row {int(bad[0]) + 2} is {wide[column].iloc[bad[0]]!r}, "
                                "not a finite number")


def check_options(modalities: list[str], name: str | None, logit_scale: float | None, prefix: str) -> None:
    """Refuse options that cannot make a dataset: duplicate or empty modalities, a bad name, scale or prefix."""
    check_modalities(modalities, "--modalities")
    if name is not None and not name.strip():
        raise GapscopeError("--name: the dataset name is empty")
    if logit_scale is not None and (not math.isfinite(logit_scale) or logit_scale <= 0):
        raise GapscopeError(f"--logit-scale: must be a positive finite number, got {logit_scale}")
    if prefix and prefix != prefix.strip():
        raise GapscopeError(f"--model-prefix: {prefix!r} starts or ends with white space")


def read_amumo(folder: str | Path, modalities: list[str] | None = None, name: str | None = None,
               logit_scale: float | None = None, thumbnails: bool = True, model_prefix: str = "") -> AmumoExport:
    """Read and check a whole export folder without touching any store."""
    modalities = ["image", "text"] if modalities is None else list(modalities)
    check_options(modalities, name, logit_scale, model_prefix)
    folder = Path(folder)
    if not folder.is_dir():
        raise GapscopeError(f"{folder}: not a folder")
    lines = _read_prompts(folder)
    paths = sorted(p for p in (folder / "similarities").glob("*.csv"))
    if not paths:
        raise GapscopeError(f"{folder / 'similarities'}: no similarity matrices (*.csv)")
    k = len(modalities)
    matrices = {p: _read_matrix(p, k) for p in paths}
    n = len(next(iter(matrices.values()))) // k
    prompts = fit_prompts(folder / "prompts.txt", lines, n, paths[0], k)
    for path, matrix in matrices.items():
        if len(matrix) != n * k:
            raise GapscopeError(f"{path}: {len(matrix)} rows, expected {n * k} (items x modalities)")
    items = _read_items(folder, prompts, modalities, thumbnails)
    models = [_read_model(p, m, n, modalities, logit_scale, model_prefix) for p, m in matrices.items()]
    projections = _read_projections(folder, n, modalities)
    return AmumoExport(name or folder.name, modalities, items, models, projections)


def import_amumo(folder: str | Path, store_path: str | Path, modalities: list[str] | None = None,
                 name: str | None = None, logit_scale: float | None = None, replace: bool = False,
                 model_prefix: str = "") -> dict:
    """Read and check an Amumo export folder, then write it into the store at `store_path` (created if needed)."""
    from dashboard.importers.amumo_store import import_into

    export = read_amumo(folder, modalities, name, logit_scale, model_prefix=model_prefix)
    return import_into(export, store_path, str(Path(folder).resolve()), replace)
