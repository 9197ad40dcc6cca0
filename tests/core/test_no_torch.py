"""The dashboard, its analyses and the CLI import without torch (the `pip install .` promise)."""
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import importlib, pkgutil, sys
import dashboard
for module in pkgutil.walk_packages(dashboard.__path__, "dashboard."):
    importlib.import_module(module.name)
heavy = sorted(m for m in ("torch", "torchvision", "open_clip", "transformers", "ray") if m in sys.modules)
print(",".join(heavy))
"""


def test_dashboard_imports_without_torch() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", f"dashboard imports heavy packages: {done.stdout}"
