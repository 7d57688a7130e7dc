"""The dashboard in a real browser: serve it (`smesim dashboard`), open it in headless Chromium
(Playwright), raise the clinics budget, reset, step, and check that the goals changed; a second
session has a model of its own; the Persian page is right to left with Persian digits.

Needs /usr/bin/chromium (Debian's `chromium` package; .ci/run installs it). Without it the
test is skipped, unless SMESIM_REQUIRE_BROWSER=1 (CI), where it fails."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from dashboard_server import CHROMIUM, REPOSITORY, open_page, served_dashboard, step

pytestmark = pytest.mark.browser

SCREENSHOT = REPOSITORY / "results" / "dashboard" / "screenshot.png"


def _browser_or_skip():
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is missing (install Debian's chromium: apt-get install -y chromium)"
        if os.environ.get("SMESIM_REQUIRE_BROWSER") == "1":
            pytest.fail(message + "; SMESIM_REQUIRE_BROWSER=1 requires the browser test")
        pytest.skip(message)
    return pytest.importorskip("playwright.sync_api")


@pytest.fixture(params=[["baseline"]], ids=["en"])
def dashboard_url(request, tmp_path):
    try:
        with served_dashboard([*request.param, "--scale", "0.1"], tmp_path, tmp_path / "server.log") as url:
            yield url
    except RuntimeError as error:
        pytest.fail(str(error))


def _units_activated(page) -> tuple[float, float]:
    """This run's and the baseline's units activated (thousand) from the goals table."""
    row = page.locator("tr", has_text="Activate 31,500").first.inner_text()
    numbers = [float(x.replace(",", "")) for x in re.findall(r"[\d,]+\.\d+", row)]
    return numbers[0], numbers[1]


def test_dashboard_in_browser(dashboard_url, tmp_path):
    playwright = _browser_or_skip()
    with playwright.sync_playwright() as p:
        browser, page = open_page(p, dashboard_url, "Month 0")
        try:
            goal_charts = page.locator(".goal-charts")
            assert goal_charts.locator("svg").count() == 4
            first_charts = goal_charts.inner_html()

            # the clinics budget to about half its range (USD 50 m a year), then reset to apply it
            slider = page.get_by_role("slider", name="Clinics (USD m/year)")
            track = page.locator(".v-input", has_text="Clinics (USD m/year)").locator(".v-slider").first
            box = track.bounding_box()
            page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] / 2)
            page.wait_for_function("s => Number(s.getAttribute('aria-valuenow')) > 0", arg=slider.element_handle())
            budget = float(slider.get_attribute("aria-valuenow"))
            page.get_by_role("button", name="Reset").click()
            page.get_by_text("Month 0").wait_for()

            seconds = [step(page) for _ in range(3)]
            print(f"click on Step to updated page at scale 0.1: {[round(s, 3) for s in seconds]} s")
            assert page.locator("b.month").inner_text() == "Month 3"
            run, baseline = _units_activated(page)
            assert goal_charts.inner_html() != first_charts, "the goal charts did not change after stepping"
            assert goal_charts.locator("polyline.series").count() >= 8  # this run and the baseline, four goals
            assert budget > 0
            assert run > baseline, (
                f"clinics at USD {budget} m a year activated {run} thousand units, baseline {baseline}"
            )

            # another session (a second browser window) has a model of its own, at month 0
            other = browser.new_context().new_page()
            other.goto(dashboard_url)
            other.get_by_text("Month 0").wait_for(timeout=90_000)
            step(other)
            assert page.locator("b.month").inner_text() == "Month 3"

            page.get_by_role("tab", name="Page 1").click()
            for view in (".units-chart", ".exports-chart", ".firm-charts", ".consortia-chart"):
                page.locator(f"{view} svg").first.wait_for(timeout=30_000)
            page.get_by_role("tab", name="Page 0").click()

            page.get_by_role("button", name="Write report").click()
            page.get_by_text("report written:").wait_for(timeout=60_000)
            assert list(tmp_path.glob("results/dashboard/*/report/report.html"))  # the server runs in tmp_path

            page.screenshot(path=str(tmp_path / "screenshot.png"), full_page=True)
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(tmp_path / "screenshot.png", SCREENSHOT)
        finally:
            browser.close()


@pytest.mark.parametrize(
    "dashboard_url", [["ministry_plan", "--lang", "fa", "--digits", "persian"]], ids=["fa"], indirect=True
)
def test_persian_dashboard_in_browser(dashboard_url):
    playwright = _browser_or_skip()
    with playwright.sync_playwright() as p:
        browser, page = open_page(p, dashboard_url, "ماه ۰")
        try:
            step(page)
            assert page.locator("b.month").inner_text() == "ماه ۱"
            table = page.locator(".goal-status div[dir='rtl']")
            assert table.count() == 1 and "واحدهای فعال‌شده" in table.inner_text()
            assert not re.search(r"[0-9]", page.locator(".goal-table").inner_text())  # Persian digits only
            assert page.get_by_role("button", name="نوشتن گزارش").count() == 1
            page.screenshot(path=str(SCREENSHOT.with_name("screenshot-fa.png")), full_page=True)
        finally:
            browser.close()
