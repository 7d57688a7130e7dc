"""The dashboard in a real browser: serve it (`smesim dashboard`), open it in headless Chromium
(Playwright) and use it as a workshop would: read and type lever budgets, see what waits for
Reset and the progress of a Reset, pick scenarios, compare a shock with the no-shock baseline,
write and download a report that `smesim replay` reproduces, save the settings as a scenario
file, play and close the page (Play stops, the run is freed); the Persian page is right to left
with Persian words and digits. One server per language, one browser for the module.

Needs /usr/bin/chromium (Debian's `chromium` package; .ci/run installs it). Without it the
tests are skipped, unless SMESIM_REQUIRE_BROWSER=1 (CI), where they fail."""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import pytest
from dashboard_server import CHROMIUM, REPOSITORY, served_dashboard, step

from experiments import cli
from experiments.dashboard.workshop import BUDGETS
from experiments.inputs.scenario import load_scenario

pytestmark = pytest.mark.browser

SCREENSHOT = REPOSITORY / "results" / "dashboard" / "screenshot.png"
SCALE = "0.05"
PROJECTOR = {"width": 1280, "height": 720}


def _playwright_or_skip():
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is missing (install Debian's chromium: apt-get install -y chromium)"
        if os.environ.get("SMESIM_REQUIRE_BROWSER") == "1":
            pytest.fail(message + "; SMESIM_REQUIRE_BROWSER=1 requires the browser test")
        pytest.skip(message)
    return pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def browser():
    playwright = _playwright_or_skip().sync_playwright().start()
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
    yield chromium
    chromium.close()
    playwright.stop()


def _serve(tmp_path_factory, arguments: list[str]):
    where = tmp_path_factory.mktemp("dashboard")
    # a lost connection frees its run after 2 s here (the command's default: a minute)
    served = served_dashboard(
        [*arguments, "--scale", SCALE], where, where / "server.log", env={"SOLARA_KERNEL_CULL_TIMEOUT": "2s"}
    )
    try:
        with served as url:
            yield url, where
    except RuntimeError as error:
        pytest.fail(str(error))


@pytest.fixture(scope="module")
def english(tmp_path_factory):
    yield from _serve(tmp_path_factory, ["baseline"])


@pytest.fixture(scope="module")
def persian(tmp_path_factory):
    yield from _serve(tmp_path_factory, ["ministry_plan", "--lang", "fa", "--digits", "persian"])


def _open(browser, url: str, month: str = "Month 0", viewport=PROJECTOR):
    """A new page of the dashboard (its own session and run), once its run is built."""
    page = browser.new_page(viewport=viewport, accept_downloads=True)
    page.goto(url)
    page.locator("b.month", has_text=month).wait_for(timeout=120_000)
    return page


def _type(page, label: str, value: float) -> None:
    """Type a number into a control, and wait until the page lists it as waiting for Reset."""
    field = page.get_by_label(label, exact=True)
    field.fill(str(value))
    field.press("Enter")
    page.locator(".pending", has_text=f"{label}: ").wait_for()


def _pick(page, label: str, option: str) -> None:
    page.get_by_label(label, exact=True).click(force=True)
    page.locator(".v-menu__content:visible .v-list-item", has_text=option).first.click()


def _reset(page) -> None:
    """Click Reset and wait until the new run shows month 0 with nothing pending."""
    page.get_by_role("button", name="Reset").click()
    page.wait_for_function("() => !document.querySelector('.pending') && !document.querySelector('.busy')")
    page.locator("b.month", has_text="Month 0").wait_for(timeout=120_000)


def _goal_row(page, words: str) -> tuple[float, float]:
    """This run's and the comparison's value in the goal table's row naming `words`."""
    row = page.locator(".goal-table tr", has_text=words).first.inner_text()
    numbers = [float(x.replace(",", "")) for x in re.findall(r"-?[\d,]+\.\d+", row)]
    return numbers[0], numbers[1]


def _log(where: Path) -> str:
    return (where / "server.log").read_text(errors="replace")


# Records whether a progress note (.busy) was ever shown with the button named `arg` disabled
WATCH_BUSY = """name => { window.sawBusy = false; new MutationObserver(() => {
    const button = [...document.querySelectorAll('button')].find(
        b => b.innerText.trim().toUpperCase() === name.toUpperCase());
    if (document.querySelector('.busy') && button && button.disabled) window.sawBusy = true;
}).observe(document.body, {subtree: true, childList: true, attributes: true}); }"""


def test_levers_read_typed_pending_and_applied(browser, english):
    url, where = english
    outside = []
    page = _open(browser, url)
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(url) else None)
    try:
        expect = _playwright_or_skip().expect
        # the four goal charts fit a 1280x720 projector, as wide as their column
        charts = page.locator(".goal-charts svg")
        expect(charts).to_have_count(4)
        for i in range(4):
            box = charts.nth(i).bounding_box()
            assert box["width"] > 330 and box["y"] + box["height"] <= PROJECTOR["height"], box

        # no developer furniture; tabs named for what they show
        expect(page.get_by_role("tab", name="Goals")).to_have_count(1)
        expect(page.get_by_role("tab", name="Economy")).to_have_count(1)
        text = page.locator("body").inner_text()
        furniture = ("Play Interval", "Render Interval", "Use Threads", "Information", "PAGE 0", "Time:", "Solara")
        assert not [words for words in furniture if words.lower() in text.lower()]
        assert page.title() == "Iran's small industry: policy workshop"

        # every slider track starts at one position with a width; each lever shows its value and unit
        tracks = [t.bounding_box() for t in page.locator(".number-control .v-slider").all()]
        assert len(tracks) == 1 + 13 + 4  # scale, the budgets, the uncertainties
        assert len({round(b["x"]) for b in tracks}) == 1 and min(b["width"] for b in tracks) > 80
        clinics = page.locator(".number-control", has=page.get_by_label("Clinics", exact=True))
        assert page.get_by_label("Clinics", exact=True).input_value() == "0.0" and "USD m/yr" in clinics.inner_text()
        assert page.locator(".plan-cost").inner_text() == "Plan: USD 0.0 m a year"

        # a typed budget: the cost follows, the change waits for Reset and says so
        _type(page, "Clinics", 50)
        assert "Clinics: 0.0 → 50.0" in page.locator(".pending").inner_text()
        assert page.locator(".plan-cost").inner_text() == "Plan: USD 50.0 m a year"
        page.evaluate(WATCH_BUSY, "Step")
        _reset(page)
        assert page.evaluate("window.sawBusy"), "no progress shown, or Step usable, while the run was built"

        seconds = [step(page) for _ in range(3)]
        print(f"click on Step to updated page at scale {SCALE}: {[round(s, 3) for s in seconds]} s")
        assert page.locator("b.month").inner_text() == "Month 3"
        run, baseline = _goal_row(page, "Activate 31,500")
        assert run > baseline, f"clinics at USD 50 m a year activated {run} thousand units, the comparison {baseline}"
        assert page.locator(".goal-charts polyline.series").count() >= 8  # this run and the comparison, four goals

        page.get_by_role("tab", name="Economy").click()
        views = page.locator(".economy-charts svg")
        views.first.wait_for()
        assert views.count() == 5
        for i in range(5):  # each says its month and shows the comparison run
            svg = views.nth(i).inner_html()
            assert "Month 3" in svg and "baseline scenario" in svg, svg[:300]
        page.get_by_role("tab", name="Goals").click()
        table = page.locator(".goal-table")
        before = table.bounding_box()["y"]
        table.hover()
        page.mouse.wheel(0, 3000)  # the page scrolled down: the month and the plan's cost stay on screen
        page.wait_for_function("y => document.querySelector('.goal-table').getBoundingClientRect().y < y", arg=before)
        assert 0 <= page.locator(".plan-cost").bounding_box()["y"] < 60
        page.screenshot(path=str(where / "screenshot.png"), full_page=True)
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(where / "screenshot.png", SCREENSHOT)
        assert outside == [], f"the page called outside hosts: {outside[:5]}"
    finally:
        page.close()
    log = _log(where)
    assert f"dashboard code: {REPOSITORY}" in log  # the server runs this working tree's code
    assert "samesite" not in log.lower() and "Could not load URL" not in log


def test_a_picked_scenario_sets_the_controls_and_a_shock_shows_against_no_shock(browser, english):
    url, _ = english
    page = _open(browser, url)
    try:
        expect = _playwright_or_skip().expect
        plan = load_scenario("ministry_plan").policy
        _pick(page, "Scenario", "ministry_plan")
        clinics = page.get_by_label("Clinics", exact=True)
        expect(clinics).to_have_value(f"{plan['clinics']['budget_usd'] / 1e6:.1f}")
        cost = sum(plan[lever][s] for lever, s in BUDGETS) / 1e6
        expect(page.locator(".plan-cost")).to_have_text(f"Plan: USD {cost:,.1f} m a year")
        expect(page.locator(".pending")).to_contain_text("Scenario: baseline → ministry_plan")

        _type(page, "Clinics", -5)  # a budget below 0: refused, saying which, and the page goes on
        page.get_by_role("button", name="Reset").click()
        expect(page.locator(".build-failed")).to_contain_text("clinics.budget_usd: must lie in [0.0, inf)")

        _pick(page, "Scenario", "rial_fall")  # today's policies and a shock
        expect(clinics).to_have_value("0.0")
        expect(page.locator(".choice", has_text="Compare with")).to_contain_text("the baseline scenario (no shocks")
        _reset(page)
        for _ in range(4):
            step(page)
        status = page.locator(".goal-status").inner_text()
        assert "compared with the baseline scenario (no shocks" in status and "rial_fall" in status
        run, comparison = _goal_row(page, "Export USD 17 bn")
        assert run != comparison, "the fall of the rial does not show against the no-shock baseline"
    finally:
        page.close()


def test_a_report_downloads_and_replays_and_the_settings_save_as_a_scenario(browser, english, capsys):
    url, where = english
    page = _open(browser, url)
    try:
        _type(page, "Clinics", 20)
        _type(page, "Grants", 5)
        _reset(page)
        step(page)
        step(page)
        page.evaluate(WATCH_BUSY, "Write report")
        page.get_by_role("button", name="Write report").click()
        with page.expect_download(timeout=120_000) as download:
            page.get_by_role("button", name="Download the report").click(timeout=120_000)
        assert page.evaluate("window.sawBusy"), "no progress shown, or the button usable, while writing"
        name = download.value.suggested_filename
        assert re.fullmatch(r"baseline-changed-[0-9a-f]{10}-month2\.html", name), name
        assert "<html" in Path(download.value.path()).read_text()[:500].lower()
        folder = where / "results" / "dashboard" / name.removesuffix(".html")
        assert cli.main(["replay", str(folder)]) == 0  # `smesim replay`: the run and its comparison
        assert capsys.readouterr().out.count(": identical") == 2

        with page.expect_download() as saved:
            page.get_by_role("button", name="Save settings as a scenario file").click()
        plan = load_scenario(saved.value.path())  # what `smesim run` and sweeps read
        assert plan.policy["clinics"]["budget_usd"] == 20e6 and plan.policy["credit"]["grants_usd"] == 5e6

        _reset(page)  # a new run: the last run's report is no longer offered
        assert page.get_by_role("button", name="Download the report").count() == 0
    finally:
        page.close()


def test_a_closed_page_stops_playing_and_frees_its_run(browser, english):
    url, where = english
    for stopped in range(1, 3):  # open, play, close: twice
        page = _open(browser, url)
        page.get_by_role("button", name="Play").click()
        page.wait_for_function("() => document.querySelector('b.month').innerText !== 'Month 0'")
        page.close()
        deadline = time.monotonic() + 30
        while _log(where).count("play stopped at month") < stopped and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _log(where).count("play stopped at month") == stopped, _log(where)[-2000:]
        month = int(re.findall(r"play stopped at month (\d+)", _log(where))[-1])
        assert month < 48  # stopped by the close, not by the horizon
    page = _open(browser, url)
    page.close()
    opened = re.findall(r"session opened: (\d+) runs in memory", _log(where))
    assert opened[-1] == "0", _log(where)[-2000:]  # every closed page's run was freed


def test_persian_page_is_right_to_left_in_persian(browser, persian):
    url, _ = persian
    page = _open(browser, url, "ماه ۰", viewport={"width": 1600, "height": 1000})
    try:
        step(page, "یک ماه")
        assert page.locator("b.month").inner_text() == "ماه ۱"
        assert page.locator(".workshop").evaluate("e => getComputedStyle(e).direction") == "rtl"
        _playwright_or_skip().expect(page.locator(".v-application--is-rtl")).to_have_count(1)  # sliders mirrored too
        clinics = page.get_by_label("کلینیک صنعتی", exact=True)
        assert clinics.input_value() == "۲۰٫۰"  # the plan's USD 20 m, in Persian digits
        clinics.fill("۳۵")  # typed in Persian digits
        clinics.press("Enter")
        page.locator(".pending", has_text="۳۵").wait_for()
        table = page.locator(".goal-table")
        assert "واحدهای فعال‌شده" in table.inner_text()
        assert not re.search(r"[0-9]", table.inner_text())  # Persian digits only
        assert page.get_by_role("tab", name="اهداف").count() == 1
        assert page.get_by_role("button", name="نوشتن گزارش").count() == 1
        targeting = page.locator(".choice", has_text="هدف‌گیری").first.inner_text()
        assert "همهٔ واحدهای واجد شرایط" in targeting or "رتبه‌بندی" in targeting  # the choices in Persian
        assert "برنامهٔ وزارت" in page.locator(".choice", has_text="سناریو").first.inner_text()
        assert "تهران" in page.locator(".choice", has_text="استان برای").inner_text()
        page.screenshot(path=str(SCREENSHOT.with_name("screenshot-fa.png")), full_page=True)
    finally:
        page.close()
