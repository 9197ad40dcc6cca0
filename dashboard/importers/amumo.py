"""Import an Amumo export folder (prompts.txt, images/, similarities/*.csv, projections.csv) into a store.

Amumo exports Gram matrices, not embeddings; `embeddings_from_gram` rebuilds an equivalent set (exact up to a
rotation, which no gapscope metric can see). Everything is read and checked before anything is written, so a
bad folder leaves the store as it was.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from dashboard.analysis.gram import embeddings_from_gram
from dashboard.errors import GapscopeError
from dashboard.store import Store
from dashboard.store.artifacts import PROJECTION, projection_key
from dashboard.store.validate import check_vectors
from dashboard.thumbnails import open_image, thumbnail_bytes

# exp(logit_scale) of the models Amumo ships, by case-insensitive name prefix (CLOOME sets none). CyCLIP's checkpoint
# stores logit_scale = 4.6052, so its scale is exp(4.6052) = 100.003, not 100: Amumo's losses need the exact value.
KNOWN_SCALES = (("cloome", 1.0), ("cloob", 30.0), ("cyclip", float(np.exp(4.6052))), ("clip", 100.0), ("imagebind", 1.0))
SYMMETRY_TOLERANCE = 1e-6


@dataclass
class AmumoModel:
    """One similarity matrix of the export, turned into per-modality embeddings."""

    name: str
    vectors: dict[str, np.ndarray]
    meta: dict | None
    logit_scale: float


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
    """The captions (or SMILES), one per line."""
    path = folder / "prompts.txt"
    if not path.is_file():
        raise GapscopeError(f"{path}: missing (an Amumo export needs prompts.txt)")
    lines = path.read_text(encoding="utf-8").splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise GapscopeError(f"{path}: no prompts")
    return lines


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
        extra = pd.read_csv(infos, index_col=0)
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


def _read_matrix(path: Path, expected: int) -> np.ndarray:
    """A similarity matrix, checked to be square, symmetric, finite and of the expected size."""
    try:
        matrix = np.loadtxt(path, delimiter=",", ndmin=2)
    except ValueError as exc:
        raise GapscopeError(f"{path}: not a numeric CSV matrix ({exc})".splitlines()[0]) from exc
    if matrix.shape[0] != matrix.shape[1]:
        raise GapscopeError(f"{path}: not square ({matrix.shape[0]}x{matrix.shape[1]})")
    if matrix.shape[0] != expected:
        raise GapscopeError(f"{path}: {matrix.shape[0]} rows, expected {expected} (items x modalities)")
    if not np.isfinite(matrix).all():
        raise GapscopeError(f"{path}: contains NaN or infinite values")
    asymmetry = float(np.abs(matrix - matrix.T).max())
    if asymmetry > SYMMETRY_TOLERANCE:
        raise GapscopeError(f"{path}: not symmetric (max |S - S^T| = {asymmetry:.3g})")
    return matrix


def _read_model(path: Path, n: int, modalities: list[str], logit_scale: float | None) -> AmumoModel:
    """One model: its Gram matrix as embeddings per modality, plus Amumo's meta numbers if present."""
    matrix = _read_matrix(path, n * len(modalities))
    empty = np.flatnonzero(np.diag(matrix) <= 1e-12)
    if empty.size:
        row = int(empty[0])
        raise GapscopeError(f"{path}: item {row % n} ({modalities[row // n]}) has a zero embedding (zero diagonal)")
    rows = embeddings_from_gram(matrix)
    vectors = {m: rows[k * n:(k + 1) * n] for k, m in enumerate(modalities)}
    ids = [str(i) for i in range(n)]
    for modality, block in vectors.items():
        check_vectors(f"{path} ({modality})", ids, block, rows.shape[1])
    meta_path = path.with_name(f"{path.stem}_meta_info.json")
    meta = json.loads(meta_path.read_text()) if meta_path.is_file() else None
    scale = logit_scale if logit_scale is not None else default_logit_scale(path.stem)
    return AmumoModel(path.stem, vectors, meta, scale)


def _read_projections(folder: Path, n: int, modalities: list[str]) -> pd.DataFrame | None:
    """Amumo's projections in long form: model, method, item_id, modality, x, y (None if absent)."""
    path = folder / "projections.csv"
    if not path.is_file():
        return None
    wide = pd.read_csv(path)
    if len(wide) != n * len(modalities):
        raise GapscopeError(f"{path}: {len(wide)} rows, expected {n * len(modalities)}")
    base = pd.DataFrame({"item_id": [str(i % n) for i in range(len(wide))],
                         "modality": [modalities[i // n] for i in range(len(wide))]})
    parts = []
    for column in [c for c in wide.columns if c.endswith("_x")]:
        stem = column[:-2]
        model, _, method = stem.rpartition("_")
        if f"{stem}_y" in wide.columns and model:
            part = base.assign(model=model, method=method.lower(), x=wide[column].to_numpy(), y=wide[f"{stem}_y"].to_numpy())
            parts.append(part)
    return pd.concat(parts, ignore_index=True) if parts else None


def read_amumo(folder: str | Path, modalities: list[str] | None = None, name: str | None = None,
               logit_scale: float | None = None, thumbnails: bool = True) -> AmumoExport:
    """Read and check a whole export folder without touching any store."""
    folder = Path(folder)
    if not folder.is_dir():
        raise GapscopeError(f"{folder}: not a folder")
    modalities = modalities or ["image", "text"]
    prompts = _read_prompts(folder)
    items = _read_items(folder, prompts, modalities, thumbnails)
    matrices = sorted(p for p in (folder / "similarities").glob("*.csv"))
    if not matrices:
        raise GapscopeError(f"{folder / 'similarities'}: no similarity matrices (*.csv)")
    models = [_read_model(p, len(prompts), modalities, logit_scale) for p in matrices]
    projections = _read_projections(folder, len(prompts), modalities)
    return AmumoExport(name or folder.name, modalities, items, models, projections)


def write_export(export: AmumoExport, store: Store, source: str) -> dict:
    """Write a checked export into a store; returns a summary."""
    store.add_dataset(export.name, export.modalities, kind="amumo", source=source,
                      description=f"Amumo export {Path(source).name}")
    added = store.add_items(export.name, export.items)
    for model in export.models:
        store.add_model(model.name, export.modalities, 0, model.logit_scale, family="amumo-gram", source=source)
        for modality, block in model.vectors.items():
            store.add_embeddings(export.name, model.name, modality, list(export.items["item_id"]), block, exact=True)
        if model.meta is not None:
            store.put_json(export.name, model.name, "amumo_meta", "meta_info", model.meta)
        _write_projections(export, model.name, store)
    return {"dataset": export.name, "items_added": added, "models": [m.name for m in export.models]}


def _write_projections(export: AmumoExport, model: str, store: Store) -> None:
    """Store Amumo's own projections of one model as projection artefacts (method pca/umap/tsne)."""
    if export.projections is None:
        return
    mine = export.projections[export.projections["model"] == model]
    for method, frame in mine.groupby("method"):
        store.put_frame(export.name, model, PROJECTION, projection_key(str(method)),
                        frame[["item_id", "modality", "x", "y"]].reset_index(drop=True))


def import_amumo(folder: str | Path, store_path: str | Path, modalities: list[str] | None = None,
                 name: str | None = None, logit_scale: float | None = None) -> dict:
    """Read, check, then write an Amumo export folder into the store at `store_path` (created if needed)."""
    export = read_amumo(folder, modalities, name, logit_scale)
    store = Store.create(store_path)
    return write_export(export, store, str(Path(folder).resolve()))
