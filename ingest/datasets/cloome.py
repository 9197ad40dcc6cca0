"""CLOOME: cell-painting microscopy images (npz, five channels) paired with the molecules' SMILES strings.

An index CSV (CLOOME's format: SAMPLE_KEY and SMILES columns; id/smiles also accepted) names each sample; its image
is the npz file whose stem is the sample key, anywhere under the source. Invalid SMILES are bad items (RDKit).
Options: index (the CSV; default the only *.csv in the source).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from dashboard.errors import GapscopeError
from ingest.base import Record
from ingest.datasets.common import ListSource, folder, no_options, text_or_none

MODALITIES = ["microscopy", "molecule"]


def _pick(frame: pd.DataFrame, choices: list[str], path: Path) -> str:
    """The first of the candidate columns the index has."""
    found = next((c for c in choices if c in frame.columns), None)
    if found is None:
        raise GapscopeError(f"{path}: needs one of the columns {', '.join(choices)}")
    return found


def open(source: str, index: str | None = None, **options: Any) -> ListSource:  # noqa: A001
    """Open a CLOOME-format folder."""
    no_options("cloome", options)
    root = folder(source)
    found = [root / index] if index else sorted(root.glob("*.csv"))
    if len(found) != 1 or not found[0].is_file():
        raise GapscopeError(f"{root}: expected one index CSV, found {len(found)}; pass the option index")
    frame = pd.read_csv(found[0], dtype=str, keep_default_na=False)
    key_column = _pick(frame, ["SAMPLE_KEY", "sample_key", "id"], found[0])
    smiles_column = _pick(frame, ["SMILES", "smiles"], found[0])
    images = {p.stem: str(p) for p in sorted(root.rglob("*.npz"))}
    records = []
    for row in frame.to_dict("records"):
        key = str(row[key_column])
        extra = {k: v for k, v in row.items() if k not in (key_column, smiles_column)}
        records.append(Record(item_id=key, molecule=text_or_none(row[smiles_column]),
                              image_ref=images.get(key, str(root / f"{key}.npz")), extra=extra))
    return ListSource(f"cloome-{root.name}", list(MODALITIES), records)
