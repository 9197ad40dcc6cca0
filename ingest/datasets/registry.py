"""Dataset types by name: one module each, exposing `open(source, **options) -> DatasetSource`."""
from __future__ import annotations

import importlib
from typing import Any

from dashboard.errors import GapscopeError
from ingest.base import DatasetSource

DATASETS = {
    "mscoco": "ingest.datasets.mscoco",
    "diffusiondb": "ingest.datasets.diffusiondb",
    "audioset": "ingest.datasets.audioset",
    "cloome": "ingest.datasets.cloome",
    "generic": "ingest.datasets.generic",
    "webdataset": "ingest.datasets.webdataset",
    "augment": "ingest.datasets.augment",
}


def list_datasets() -> dict[str, str]:
    """Registered dataset types and the first line of each module's description."""
    return {name: (importlib.import_module(module).__doc__ or "").strip().splitlines()[0] for name, module in DATASETS.items()}


def open_dataset(type: str, source: str, **options: Any) -> DatasetSource:  # noqa: A002 - the CLI's word
    """Open `source` as a dataset of the given type; an unknown type is an error listing the known ones."""
    if type not in DATASETS:
        raise GapscopeError(f"dataset type {type!r}: unknown (known: {', '.join(sorted(DATASETS))})")
    return importlib.import_module(DATASETS[type]).open(source, **options)
