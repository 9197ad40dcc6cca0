"""Fixtures of the core tests: stores imported from Amumo's exports."""
from pathlib import Path

import pytest

from dashboard.importers.amumo import import_amumo


@pytest.fixture(scope="session")
def mscoco_store(reference: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding MSCOCO-Val_size-100 with all of Amumo's models."""
    path = tmp_path_factory.mktemp("mscoco") / "store"
    import_amumo(reference / "MSCOCO-Val_size-100", path)
    return path
