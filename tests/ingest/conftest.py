"""Fixtures of the ingest tests: a tiny open_clip model with saved weights, and a fresh store path."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from ingest_helpers import tiny_clip_dir  # noqa: E402


@pytest.fixture(scope="session")
def clip_spec(tmp_path_factory) -> str:
    """A registry spec of a tiny open_clip model whose weights were saved and are loaded back."""
    return tiny_clip_dir(tmp_path_factory.mktemp("tiny_clip"))
