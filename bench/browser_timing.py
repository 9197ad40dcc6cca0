"""Browser side of bench_dashboard.py: `streamlit run app.py` on a store, Explore opened in headless Chromium
(Playwright, Debian's /usr/bin/chromium), the first draw and heatmap hover timed, the server's VmHWM read."""
from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
HOVERS = 9
PANEL = "#gs-hover-panel"


def vm_hwm_mb(pid: int | str = "self") -> float:
    """Peak resident set size (VmHWM) of a process in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(store: str) -> tuple[subprocess.Popen, str]:
    """A dashboard server on the store, once it answers its health check."""
    port = _free_port()
    env = dict(os.environ, GAPSCOPE_STORE=store, HF_HUB_OFFLINE="1", PYTHONPATH=str(REPO))
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port",
               str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
               "--server.fileWatcherType", "none"]
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url, deadline = f"http://127.0.0.1:{port}", time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                if answer.read().strip() == b"ok":
                    return process, url
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError("streamlit did not start")


def _frame(page):
    """The linked-hover component's frame."""
    for frame in page.frames:
        if "gapscope_hover" in frame.url:
            return frame
    raise RuntimeError("no linked-hover component on the page")


WATCH = """() => {
  const panel = document.querySelector('#gs-hover-panel');
  window.__gsStart = null; window.__gsLast = null;
  document.addEventListener('mousemove', () => { if (window.__gsStart === null) window.__gsStart = performance.now(); },
                            true);
  new MutationObserver(() => { if (window.__gsStart !== null) window.__gsLast = performance.now() - window.__gsStart; })
    .observe(panel, {attributes: true, attributeFilter: ['data-item-id']});
}"""


def _hover_times(page, frame) -> list[float]:
    """Milliseconds from the browser's mousemove event onto a heatmap cell to the hover panel showing that cell's
    item (timed inside the page: performance.now() at the event, a MutationObserver on the panel), for HOVERS
    cells in different rows."""
    side = frame.evaluate("document.getElementById('gs-heatmap')._fullData[0].z.length")
    image = frame.locator("#gs-heatmap .heatmaplayer image").first.bounding_box()
    frame.evaluate(WATCH)
    times = []
    for k in range(HOVERS):
        row, column = int((k + 1) * side / (HOVERS + 2)), int(side * 0.3)
        x = image["x"] + (column + 0.5) * image["width"] / side
        y = image["y"] + (row + 0.5) * image["height"] / side
        page.mouse.move(x, image["y"] - 40)  # off the heatmap, so the next move is a fresh hover
        page.wait_for_timeout(300)
        before = frame.evaluate(f"document.querySelector('{PANEL}').getAttribute('data-item-id')")
        frame.evaluate("() => { window.__gsStart = null; window.__gsLast = null; }")
        page.mouse.move(x, y)
        frame.wait_for_function(f"prev => document.querySelector('{PANEL}').getAttribute('data-item-id') !== prev "
                                "&& window.__gsLast !== null", arg=before, timeout=60_000)
        times.append(frame.evaluate("window.__gsLast"))
    return times


def browser_row(store: str, n: int, sample: int, screenshot: Path | None) -> dict:
    """First draw, median hover latency and server VmHWM of Explore with `sample` items in view (0 = all)."""
    from playwright.sync_api import sync_playwright

    process, url = start_server(store)
    row: dict = {"n": n}
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            page = chromium.new_page(viewport={"width": 1600, "height": 1100})
            start = time.perf_counter()
            page.goto(f"{url}/explore?n={sample}", timeout=300_000)
            page.locator('iframe[src*="gapscope_hover"]').first.wait_for(timeout=300_000)
            frame = _frame(page)
            frame.wait_for_selector('body[data-gs-ready="1"]', timeout=300_000)
            frame.wait_for_selector("#gs-heatmap .heatmaplayer image", timeout=300_000)
            row["first_draw_s"] = time.perf_counter() - start
            times = _hover_times(page, frame)
            row["hover_ms"], row["note"] = statistics.median(times), f"hover max {max(times):.0f} ms"
            if screenshot is not None:
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(screenshot), full_page=False)
                row["note"] += f"; screenshot {screenshot.relative_to(REPO)}"
            chromium.close()
        row["server_vmhwm_mb"] = vm_hwm_mb(process.pid)
    except Exception as exc:  # noqa: BLE001 - reported in the table, the benchmark goes on
        row["note"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}"
    finally:
        process.terminate()
        process.wait(timeout=30)
    return row
