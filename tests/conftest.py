"""Shared test settings: offline hubs, and where the Amumo reference exports live (../shared beside the repo)."""
import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO_ROOT = Path(__file__).resolve().parents[1]
REFERENCE = REPO_ROOT.parent / "shared" / "amumo-reference"


@pytest.fixture(scope="session")
def reference() -> Path:
    """The folder of Amumo's exports."""
    assert REFERENCE.is_dir(), f"{REFERENCE}: the shared Amumo exports must sit beside the repository"
    return REFERENCE
