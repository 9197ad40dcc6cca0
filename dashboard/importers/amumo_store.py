"""Writing a checked Amumo export into a store: never over another model or dataset, and all or nothing.

Before the first write, every model of the export is compared with a stored model of the same name: a different
record (family, modalities, dimension or logit scale) would change the results of every dataset that model
embedded, so it is refused unless --model-prefix gives the export's models other names (or, for a model only
this dataset uses, --replace). A dataset already in the store is compared with the export: the same captions and
Gram matrices add nothing; anything else is refused unless --replace, which removes the old dataset first.
All writes run inside dashboard.store.rollback.all_or_nothing, so a failure leaves the store's files as they were.
"""
from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np

from dashboard.errors import GapscopeError
from dashboard.importers.amumo import AmumoExport, AmumoModel
from dashboard.store import Store
from dashboard.store.artifacts import PROJECTION, projection_key
from dashboard.store.rollback import all_or_nothing, table_names

FAMILY = "amumo-gram"
GRAM_TOLERANCE = 1e-6


def _record_difference(record: dict, export: AmumoExport, model: AmumoModel) -> str | None:
    """How a stored model record differs from the one this import would write (None if it does not)."""
    if record["family"] != FAMILY:
        return f"family {record['family'] or 'none'!r}"
    if list(record["modalities"]) != export.modalities:
        return f"modalities {','.join(record['modalities'])}"
    if int(record["dim"]) != 0:
        return f"dimension {record['dim']}"
    if not math.isclose(float(record["logit_scale"]), model.logit_scale, rel_tol=1e-12):
        return f"logit scale {record['logit_scale']:g}, not {model.logit_scale:g}"
    return None


def check_models(export: AmumoExport, store: Store, replace: bool) -> list[str]:
    """The export's models already in the store with the same record; a clash is a one-line error."""
    known = set(store.models()["name"])
    coverage = store.coverage()
    same = []
    for model in export.models:
        if model.name not in known:
            continue
        difference = _record_difference(store.model(model.name), export, model)
        users = sorted(set(coverage.loc[coverage["model"] == model.name, "dataset"]) - {export.name})
        if difference is None:
            same.append(model.name)
        elif users or not replace:
            used = f" (it embedded {', '.join(users)})" if users else ""
            hint = "" if users else " or --replace"
            raise GapscopeError(f"model {model.name!r} from {model.path.name}: already in the store with {difference}"
                                f"{used}; use --model-prefix to import it under another name{hint}")
    return same


def _gram(vectors: dict[str, np.ndarray], modalities: list[str]) -> np.ndarray:
    """The Gram matrix of the stacked modality blocks."""
    rows = np.concatenate([np.asarray(vectors[m], dtype=np.float64) for m in modalities])
    return rows @ rows.T


def _dataset_difference(export: AmumoExport, store: Store) -> str | None:
    """How the stored dataset differs from the export (None when the import would add nothing new to it)."""
    info = store.dataset(export.name)
    if info["modalities"] != export.modalities:
        return f"modalities {','.join(info['modalities'])}"
    stored = store.items(export.name)
    column = "molecule" if "molecule" in export.modalities else "text"
    if stored["item_id"].tolist() != export.items["item_id"].tolist() or \
            stored[column].fillna("").tolist() != export.items[column].tolist():
        return "other items or captions"
    embedded = set(store.coverage().query("dataset == @export.name")["model"])
    for model in (m for m in export.models if m.name in embedded):
        paired = store.pairs(export.name, model.name, export.modalities)
        if paired.item_ids != export.items["item_id"].tolist():
            return f"other items embedded by {model.name}"
        worst = float(np.abs(_gram(paired.vectors, export.modalities) - _gram(model.vectors, export.modalities)).max())
        if worst > GRAM_TOLERANCE:
            return f"other similarities for {model.name} ({model.path.name}: max |delta S| = {worst:.3g})"
    return None


def check_dataset(export: AmumoExport, store: Store, replace: bool) -> bool:
    """Whether the dataset exists and is to be replaced; a changed re-import without replace is an error."""
    if export.name not in set(store.datasets()["name"]):
        return False
    difference = _dataset_difference(export, store)
    if difference is None:
        return False
    if not replace:
        raise GapscopeError(f"dataset {export.name!r}: already in the store with {difference}; use --replace to "
                            "replace it or --name to import it under another name")
    return True


def _write_model(export: AmumoExport, model: AmumoModel, store: Store, source: str, keep_record: bool) -> None:
    """One model's record (unless kept), embeddings, meta numbers and projections."""
    if not keep_record:
        store.add_model(model.name, export.modalities, 0, model.logit_scale, family=FAMILY, source=source)
    for modality, block in model.vectors.items():
        store.add_embeddings(export.name, model.name, modality, list(export.items["item_id"]), block, exact=True)
    if model.meta is not None:
        store.put_json(export.name, model.name, "amumo_meta", "meta_info", model.meta)
    if export.projections is not None:
        mine = export.projections[export.projections["model"] == model.stem]
        for method, frame in mine.groupby("method"):
            store.put_frame(export.name, model.name, PROJECTION, projection_key(str(method)),
                            frame[["item_id", "modality", "x", "y"]].reset_index(drop=True))


def write_export(export: AmumoExport, store: Store, source: str, replace: bool = False) -> dict:
    """Write a checked export into a store, all or nothing (an unchanged re-import writes nothing); a summary."""
    same = check_models(export, store, replace)
    replacing = check_dataset(export, store, replace)
    existing = export.name in set(store.datasets()["name"]) and not replacing
    embedded = set(store.coverage().query("dataset == @export.name")["model"])
    new = [m for m in export.models if replacing or m.name not in embedded]
    tables = table_names(export.name, sorted({m.name for m in new} | (embedded if replacing else set())))
    added = 0
    with all_or_nothing(store.path, tables):
        if replacing:
            store.remove_dataset(export.name)
        if not existing:
            store.add_dataset(export.name, export.modalities, kind="amumo", source=source,
                              description=f"Amumo export {Path(source).name}")
            added = store.add_items(export.name, export.items)
        for model in new:
            _write_model(export, model, store, source, keep_record=model.name in same)
    return {"dataset": export.name, "items_added": added, "replaced": replacing,
            "models": [m.name for m in export.models], "models_added": [m.name for m in new]}


def import_into(export: AmumoExport, store_path: str | Path, source: str, replace: bool = False) -> dict:
    """Write the export into the store at store_path (created if needed; removed again if the import fails)."""
    path = Path(store_path)
    fresh = not path.exists()
    store = Store.create(path)
    try:
        return write_export(export, store, source, replace)
    except BaseException:
        if fresh:
            shutil.rmtree(path, ignore_errors=True)
        raise
