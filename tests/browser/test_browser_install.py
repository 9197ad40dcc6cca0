"""Install anywhere. The wheel, installed with its dependencies (no torch) into a fresh venv, serves
`gapscope app --store <copy of data/demo>` started from a temporary folder; Streamlit Community Cloud's path, a
fresh venv from requirements.txt with the app run from the repository root, serves the bundled store. Each renders
in Chromium with no exception and no request leaving the machine (every request is logged). Screenshots of
Overview, Explore on DiffusionDB x CLIP and Augmentations on the rotation sweep go to tests/artifacts/."""
from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest
from browser_helpers import exceptions, free_port, settle, wait_healthy

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
                          capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S)
    assert done.returncode == 0, done.stderr[-3000:]
    print(f"[install] {' '.join(install)[-60:]}: {time.perf_counter() - start:.0f} s", file=sys.stderr)
    no_torch = subprocess.run([str(python), "-c", "import importlib.util as u; print(u.find_spec('torch') is None)"],
                              capture_output=True, text=True, timeout=60)
    assert no_torch.stdout.strip() == "True", "torch got installed"
    return python


def clean_env() -> dict[str, str]:
    """The environment without this checkout on the path nor a store chosen."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "GAPSCOPE_STORE", "VIRTUAL_ENV")}


@contextlib.contextmanager
def served(command: list[str], cwd: Path, port: int, log: Path) -> Iterator[str]:
    """Run a dashboard server until the block ends (stopped by its process id); yields its base URL."""
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=cwd, env=clean_env(), stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process, log, timeout_s=180)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


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
    wheels = tmp_path / "wheels"
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "--no-build-isolation",
                            "-q", "-w", str(wheels)], capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-3000:]
    [wheel] = wheels.glob("gapscope-*.whl")
    python = fresh_venv(tmp_path / "venv", str(wheel), cwd=tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copytree(DEMO, elsewhere / "store")
    port = free_port()
    command = [str(python.parent / "gapscope"), "app", "--store", "store", "--port", str(port)]
    with served(command, elsewhere, port, tmp_path / "server.log") as base:
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
    with served(command, REPO, port, tmp_path / "server.log") as base:
        overview = render(browser, base, "", artifacts / "install-cloud-overview.png")
        rotation = render(browser, base, f"augmentations?{ROTATION}", artifacts / "install-cloud-augmentations-rotated.png")
    assert overview == ["Overview"]
    assert rotation == ["Augmentations"]
