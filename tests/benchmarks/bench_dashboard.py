"""How quickly the dashboard answers a click on Step at full scale, in a real browser.

    make bench-dashboard    # or: python tests/benchmarks/bench_dashboard.py --steps 24 --scale 1.0

Serves `smesim dashboard baseline --scale S` and drives Debian's /usr/bin/chromium with
Playwright: for each of `--steps` clicks on Step, the time from the click until the page
shows the next month (the goal charts and table are updated in the same message). References
measured in the same run:
- the model step alone (the run and its shadow baseline), as the page reports it;
- building the four goal charts as SVG (what the page does) against drawing the same four
  panels with matplotlib to a PNG (what it did before), in this process on a model at month 12.
The issue's budget: a step under half a second. Results also go to results/bench/bench_dashboard.json.
The browser, the server and the model share the machine: run it on an idle machine.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from dashboard_server import CHROMIUM, open_page, served_dashboard, step  # noqa: E402

from experiments.dashboard.views import GOAL_UNITS, goal_charts  # noqa: E402
from experiments.dashboard.workshop import WorkshopModel  # noqa: E402

BUDGET_SECONDS = 0.5


def _matplotlib_goals_png(model: WorkshopModel) -> bytes:
    """The four goal panels as the dashboard drew them with matplotlib (72 dpi, no layout engine)."""
    from matplotlib.figure import Figure

    run, base = model.history(), model.baseline_history()
    fig = Figure(figsize=(7.5, 5.0), dpi=72)
    fig.subplots_adjust(left=0.1, right=0.98, bottom=0.12, top=0.9, wspace=0.3, hspace=0.45)
    for ax, goal in zip(fig.subplots(2, 2).ravel(), model.goals.values(), strict=True):
        unit = GOAL_UNITS[goal.indicator][0]
        ax.plot(run.index, run[goal.indicator] / unit, label="this run")
        ax.plot(base.index, base[goal.indicator] / unit, color="grey", ls="--", label="baseline")
        ax.axhline(goal.at_least / unit, color="tab:red", lw=1)
        ax.axvline(goal.month_for(48), color="tab:red", lw=0.6, ls=":")
        ax.set_title(goal.label, fontsize=8)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def chart_times(scale: float, repeats: int = 10) -> dict:
    model = WorkshopModel(scale=scale)
    for _ in range(12):
        model.step()
    times = {}
    for name, draw in (("svg", lambda: goal_charts(model)), ("matplotlib_png", lambda: _matplotlib_goals_png(model))):
        draw()  # warm
        seconds = []
        for _ in range(repeats):
            started = time.perf_counter()
            draw()
            seconds.append(time.perf_counter() - started)
        times[name] = statistics.median(seconds)
    return times


def click_times(scale: float, steps: int) -> tuple[list[float], list[float]]:
    """Seconds from each click on Step to the updated page, and the model step the page reports."""
    from playwright.sync_api import sync_playwright

    with (
        tempfile.TemporaryDirectory(prefix="bench-dashboard-") as tmp,
        served_dashboard(["baseline", "--scale", str(scale)], Path(tmp), Path(tmp) / "server.log") as url,
        sync_playwright() as p,
    ):
        browser, page = open_page(p, url, "Month 0")
        clicks, model_steps = [], []
        for _ in range(steps):
            clicks.append(step(page))
            status = page.locator(".goal-status").first.inner_text()
            model_steps.append(float(re.search(r"last step with the comparison (\d+) ms", status).group(1)) / 1000)
        browser.close()
    return clicks, model_steps


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=24)
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is missing: apt-get install -y chromium", file=sys.stderr)
        return 2
    charts = chart_times(args.scale)
    clicks, model_steps = click_times(args.scale, args.steps)
    result = {
        "scale": args.scale,
        "steps": args.steps,
        "click_to_page_seconds": {
            "median": statistics.median(clicks),
            "p90": sorted(clicks)[int(0.9 * len(clicks))],
            "max": max(clicks),
            "all": [round(c, 4) for c in clicks],
        },
        "model_step_seconds_median": statistics.median(model_steps),
        "goal_charts_seconds": charts,
        "budget_seconds": BUDGET_SECONDS,
    }
    out = ROOT / "results" / "bench" / "bench_dashboard.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    median = result["click_to_page_seconds"]["median"]
    print(f"scale {args.scale}, {args.steps} clicks on Step")
    print(
        f"  click -> page updated: median {median * 1000:.0f} ms, 90th percentile "
        f"{result['click_to_page_seconds']['p90'] * 1000:.0f} ms, max {max(clicks) * 1000:.0f} ms "
        f"(budget {BUDGET_SECONDS * 1000:.0f} ms: {'met' if median < BUDGET_SECONDS else 'MISSED'})"
    )
    print(f"  of which the model step (run and baseline): median {result['model_step_seconds_median'] * 1000:.0f} ms")
    print(
        f"  four goal charts: SVG {charts['svg'] * 1000:.1f} ms, matplotlib PNG "
        f"{charts['matplotlib_png'] * 1000:.0f} ms "
        f"({charts['matplotlib_png'] / charts['svg']:.0f}x)"
    )
    print(f"written {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
