"""Install anywhere. The wheel, installed with its dependencies (no torch) into a fresh venv, serves
`gapscope app --store <copy of data/demo>` started from a temporary folder; Streamlit Community Cloud's path, a
fresh venv from requirements.txt with the app run from the repository root, serves the bundled store. Each renders
in Chromium with no exception and no request leaving the machine (every request is logged). Screenshots of
Overview, Explore on DiffusionDB x CLIP and Augmentations on the rotation sweep go to tests/artifacts/."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from browser_helpers import exceptions, free_port, served, settle

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "data" / "demo"
PAIRS = "DiffusionDB_size-100"
ROTATION = "dataset=Rotated-0_size-100&src=diffusiondb-0&aug=rotate&models=CLIP,CyCLIP,CLOOB,CLOOB_LAION400M"
LOCAL = ("data:", "blob:", "about:")
INSTALL_TIMEOUT_S = 900


def fresh_venv(folder: Path, *install: str, cwd: Path) -> Path:
    """A venv without the system's packages, `pip install`ed with `install`; prints the seconds it took."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True, timeout=120)
    python = folder / "bin" / "python"
    done = subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-compile", *install], cwd=cwd,
                          env=clean_env(), capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S)
    assert done.returncode == 0, done.stderr[-3000:]
    print(f"[install] {' '.join(install)[-60:]}: {time.perf_counter() - start:.0f} s", file=sys.stderr)
    found = subprocess.run([str(python), "-c", "import importlib.util as u; print(u.find_spec('torch') is None, "
                            "u.find_spec('dashboard').origin)"], cwd=folder, env=clean_env(), capture_output=True,
                           text=True, timeout=60)
    no_torch, origin = found.stdout.split()
    assert no_torch == "True", "torch got installed"
    assert origin.startswith(str(folder)), f"dashboard imported from {origin}, not the fresh venv"
    return python


def clean_env() -> dict[str, str]:
    """The environment without this checkout on the path nor a store chosen."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "GAPSCOPE_STORE", "VIRTUAL_ENV")}


def checkout_copy(folder: Path) -> Path:
    """The checkout's files (tracked and untracked, not ignored; the demo store left out) copied into `folder`,
    so that building leaves nothing in the checkout and nothing stale gets into the wheel."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO, capture_output=True,
                            text=True, check=True, timeout=60).stdout.splitlines()
    for name in listed:
        if not name.startswith("data/demo/") and (REPO / name).is_file():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, folder / name)
    return folder


def render(browser, base: str, path: str, shot: Path) -> list[str]:
    """Open one page in a fresh context, check it shows no exception, save a screenshot; the URLs it requested
    outside the server."""
    context = browser.new_context(viewport={"width": 1600, "height": 1200})
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    try:
        page.goto(f"{base}/{path}")
        settle(page, timeout_s=240)
        page.wait_for_timeout(1500)  # late assets (fonts, component frames)
        settle(page, timeout_s=120)
        page.screenshot(path=str(shot), full_page=True)
        assert exceptions(page) == [], f"{path}: {exceptions(page)}"
        heading = page.locator("h1").first.inner_text().strip()
    finally:
        context.close()
    assert requests, "no request logged"
    print(f"[requests] {path or '/'}: {len(requests)}, e.g. {requests[:3]}", file=sys.stderr)
    return [heading] + [u for u in requests if not u.startswith((base, *LOCAL))]


@pytest.mark.browser
@pytest.mark.slow
def test_wheel_without_torch_serves_the_demo_from_any_folder(browser, artifacts, tmp_path: Path) -> None:
    wheels, source = tmp_path / "wheels", checkout_copy(tmp_path / "source")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation",
                            "-q", "-w", str(wheels)], env=clean_env(), capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-3000:]
    [wheel] = wheels.glob("gapscope-*.whl")
    python = fresh_venv(tmp_path / "venv", str(wheel), cwd=tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copytree(DEMO, elsewhere / "store")
    port = free_port()
    command = [str(python.parent / "gapscope"), "app", "--store", "store", "--port", str(port)]
    with served(command, elsewhere, clean_env(), port, tmp_path / "server.log", 180) as base:
        heading, *outside = render(browser, base, f"explore?dataset={PAIRS}&model=CLIP",
                                   artifacts / "install-wheel-explore-diffusiondb-clip.png")
    assert heading == "Explore"
    assert outside == []


@pytest.mark.browser
@pytest.mark.slow
def test_streamlit_cloud_path_from_requirements(browser, artifacts, tmp_path: Path) -> None:
    python = fresh_venv(tmp_path / "venv", "-r", "requirements.txt", cwd=REPO)
    port = free_port()
    command = [str(python), "-m", "streamlit", "run", "app.py", "--server.port", str(port),
               "--server.address", "127.0.0.1"]
    with served(command, REPO, clean_env(), port, tmp_path / "server.log", 180) as base:
        overview = render(browser, base, "", artifacts / "install-cloud-overview.png")
        rotation = render(browser, base, f"augmentations?{ROTATION}", artifacts / "install-cloud-augmentations-rotated.png")
    assert overview == ["Overview"]
    assert rotation == ["Augmentations"]
