"""Search degrades with a clear message where torch (the ingest extra) is absent, as on Streamlit Community Cloud;
the SQL layer and search module never import torch themselves."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

WITHOUT_TORCH = """
import sys
sys.modules["torch"] = None  # the interpreter's own way of marking a module absent: import torch raises ImportError
from dashboard.errors import GapscopeError
from dashboard.search import neighbours_of_item, neighbours_of_text, text_search_available
from dashboard.store import Store
store_path = sys.argv[1]
print(text_search_available(Store.open(store_path).model("tiny-clip")))
print(len(neighbours_of_item(store_path, "synthetic", "tiny-clip", "3", "text", k=4)))
try:
    neighbours_of_text(store_path, "synthetic", "tiny-clip", "a cat", k=4)
except GapscopeError as exc:
    print(exc)
"""

IMPORTS = """
import sys
import dashboard.search, dashboard.sql, dashboard.sql.figures
print(sorted(m for m in sys.modules if m == "torch" or m.startswith("torch.")))
"""


def _python(code: str, *args: str) -> list[str]:
    """Run code in a fresh interpreter at the repository root; its output lines."""
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()


def test_without_torch_text_search_says_what_to_install_and_item_search_works(store_path):
    availability, count, error = _python(WITHOUT_TORCH, store_path)
    assert availability == "typed queries need the ingest extra (pip install 'gapscope[ingest]'), which is not installed"
    assert count == "4"
    assert error.startswith("model 'hf-clip:") and "typed queries need the ingest extra (pip install 'gapscope[ingest]'): " in error
    assert "torch" in error


def test_search_and_sql_do_not_import_torch():
    assert _python(IMPORTS) == ["[]"]
