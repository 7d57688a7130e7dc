"""`smesim dashboard` served on a free port and opened in headless Chromium: shared by the
browser tests and the dashboard benchmark (tests/benchmarks/bench_dashboard.py)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"  # Debian's chromium package; Playwright downloads no browser here
REPOSITORY = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def served_dashboard(
    arguments: list[str], cwd: Path, log_path: Path, start_seconds: float = 120, env: dict | None = None
) -> Iterator[str]:
    """Serve `smesim dashboard ARGUMENTS` (from `cwd`, output to `log_path`, with `env` added to the
    environment) until the block ends; yields its URL. A RuntimeError with the end of the log when
    it does not start in time."""
    port = free_port()
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "experiments.cli", "dashboard", *arguments, "--port", str(port)],
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "PYTHONPATH": str(REPOSITORY), **(env or {})},
        )
        url = f"http://127.0.0.1:{port}/"
        try:
            deadline = time.monotonic() + start_seconds
            while True:
                try:
                    urllib.request.urlopen(url, timeout=5).read()
                    break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        log.flush()
                        raise RuntimeError(
                            f"the dashboard server did not start:\n{Path(log_path).read_text(errors='replace')[-3000:]}"
                        ) from None
                    time.sleep(0.5)
            yield url
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()


def open_page(playwright, url: str, ready_text: str, timeout_ms: int = 180_000):
    """(browser, page): headless Chromium showing the dashboard once its month reads `ready_text`."""
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
    page = browser.new_page(viewport={"width": 1600, "height": 1400})
    page.goto(url)
    page.locator("b.month", has_text=ready_text).wait_for(timeout=timeout_ms)
    return browser, page


def step(page, button: str = "Step") -> float:
    """Click Step (`button`: its name in the page's language) and wait until the page shows the
    next month; the seconds it took."""
    month = page.locator("b.month").inner_text()
    started = time.perf_counter()
    page.get_by_role("button", name=button).click()
    page.wait_for_function("old => document.querySelector('b.month').innerText !== old", arg=month, timeout=60_000)
    return time.perf_counter() - started
