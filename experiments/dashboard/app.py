"""`smesim dashboard`: the workshop page, on solara (Mesa's visualisation stack).

Pick a scenario (a shipped one, or the file the dashboard was started with): every control
takes its values. Move any lever's budget (slider or typed, USD m a year; the plan's yearly
cost stays in the top bar) and targeting, and the four main uncertainties; changes wait for
Reset, and the top bar lists them until then. Step, play, pause: the page shows the four goals
of the scenario against their targets beside a comparison run stepped in lock-step on the same
seed, either today's policies under the run's shocks and uncertainties (the levers' effect) or
the no-shock baseline scenario (a shock's effect), and the economy's aggregate views.
"Write report" writes the run and its comparison as `smesim run` directories that
`smesim replay` reproduces, with scenario.toml (the plan, for `smesim run` and sweeps) and
the HTML report, under results/dashboard/, and offers the report for download.

Building a run (seconds at full scale), stepping, playing and writing run in threads: the
page stays responsive, says what is going on and disables what cannot be used meanwhile.
Play stops when the page is closed or loses its connection; a closed page's run is freed
(solara closes its session: at once on a closed tab, after SOLARA_KERNEL_CULL_TIMEOUT when the
connection was lost). Every browser session has its own run. The charts are SVG drawn by the
browser (experiments.dashboard.svg_charts), as wide as the page. Words: English or Persian
(`--lang fa`, right to left; `--digits persian`).

Launch: `smesim dashboard [SCENARIO] [--scale S] [--lang en|fa] [--digits latin|persian]
[--port P] [--host H]`, or `solara run experiments/dashboard/app.py` (SMESIM_DASHBOARD_SCENARIO,
_SCALE, _LANG and _DIGITS in the environment).
"""

from __future__ import annotations

import gc
import logging
import os
import warnings
from pathlib import Path
from typing import cast

import ipyvuetify
import solara
import traitlets

from experiments.dashboard import views
from experiments.dashboard.words import PageWords
from experiments.dashboard.workshop import (
    BUDGETS,
    COMPARISONS,
    DEFAULT_SCALE,
    LIVE_RUNS,
    LOG,
    OUT_DIR,
    TARGETED,
    UNCERTAINTY_CONTROLS,
    WorkshopModel,
    budget_key,
    controls_of,
    plan_cost_musd,
    planned_scenario,
    targeting_choices,
)
from experiments.inputs.scenario import load_scenario, scenario_toml, shipped_scenarios
from simulation.geography import PROVINCE_NAMES
from simulation.parameters import parameter_metadata
from simulation.policy import CLUSTER_NAMES

__all__ = ["DEFAULT_SCALE", "WorkshopModel", "control_specs", "make_page", "scenario_choices", "start_controls"]

# solara warns on every page load served over plain http on a host other than "localhost" that
# it cannot set a samesite=none cookie (needed only inside an iframe): it floods the terminal.
warnings.filterwarnings("ignore", message="Cookies with samesite=none require https")
if not LOG.handlers:  # sessions opened and closed, Play stopped: in the server's terminal
    LOG.addHandler(logging.StreamHandler())
    LOG.setLevel(os.environ.get("SMESIM_DASHBOARD_LOG", "INFO").upper())
    LOG.info("dashboard code: %s", Path(__file__).parents[2])


def scenario_choices(launched: str) -> list[str]:
    """The scenario picker's values: the shipped scenarios and the file the dashboard was started with."""
    return list(dict.fromkeys([*shipped_scenarios(), launched]))


def start_controls(scenario: str, scale: float) -> dict:
    """The controls at the start: the launch scenario's values, at the launch scale."""
    return {**controls_of(load_scenario(scenario), scenario), "scale": float(scale)}


def control_specs(words: PageWords) -> dict[str, dict]:
    """Each number control: its label, unit, slider range and step (a typed value may leave the range)."""
    meta = parameter_metadata()
    specs = {
        "scale": {"label": words.say("scale"), "unit": "", "low": 0.01, "top": 1.0, "step": 0.01},
        **{
            budget_key(lever, setting): {
                "label": words.names[lever, setting],
                "unit": words.say("unit_musd_year"),
                "low": 0.0,
                "top": float(top),
                "step": 0.5,
            }
            for (lever, setting), top in BUDGETS.items()
        },
    }
    for name in UNCERTAINTY_CONTROLS:  # half the plausible range beyond each side, within what is allowed
        lo, hi = meta[name]["plausible"]
        allowed_lo, allowed_hi = meta[name]["allowed"]
        span = hi - lo
        specs[name] = {
            "label": words.names[name],
            "unit": words.names.get(meta[name]["unit"], meta[name]["unit"]),
            "low": max(lo - 0.5 * span, allowed_lo),
            "top": min(hi + 0.5 * span, allowed_hi),
            "step": round(span / 40, 4),
        }
    return specs


def _kernel_context():
    """This session's solara kernel context (None outside a solara server)."""
    from solara.server import kernel_context

    try:
        return kernel_context.get_current_context()
    except RuntimeError:
        return None


def _page_open(context) -> bool:
    """Whether a browser page of the session is still connected (Play stops when none is)."""
    from solara.server.kernel_context import PageStatus

    if context is None:
        return True
    return not context.closed_event.is_set() and PageStatus.CONNECTED in context.page_status.values()


class _RightToLeft(ipyvuetify.VuetifyTemplate):
    """Turns Vuetify's right-to-left mode on (sliders, fields and menus mirrored, not only text)."""

    template = traitlets.Unicode(
        "<template><span></span></template><script>module.exports = {mounted() { this.$vuetify.rtl = true; }}</script>"
    ).tag(sync=True)


# --- controls -------------------------------------------------------------------------------


@solara.component
def Choice(label: str, value: str, choices: dict[str, str], on_value):
    """A drop-down list whose entries show words (`choices`: value -> text) and give values."""
    solara.v.Select(
        label=label,
        v_model=value,
        items=[{"text": text, "value": key} for key, text in choices.items()],
        on_v_model=on_value,
        dense=True,
        hide_details=True,
        class_="choice mb-3",
    )


@solara.component
def Number(spec: dict, value: float, on_value, words: PageWords):
    """A lever or uncertainty: a slider (all tracks aligned: the label sits in the field beside
    it) and a field that shows the value with its unit and takes a typed one (any digits)."""

    def typed(text):
        number = words.read_number(text)
        if number is not None:
            on_value(number)

    def slid(number):
        # the slider moves in steps from its low end: it reports a value off that grid (a file's,
        # a typed one) rounded to the grid when drawn, which is no change by the user
        shown = spec["low"] + round((value - spec["low"]) / spec["step"]) * spec["step"]
        if abs(float(number) - shown) > spec["step"] * 1e-6:
            on_value(float(number))

    with solara.Row(gap="10px", style={"align-items": "center"}, classes=["number-control"]):
        solara.v.Slider(
            v_model=min(max(value, spec["low"]), spec["top"]),
            min=spec["low"],
            max=spec["top"],
            step=spec["step"],
            hide_details=True,
            on_v_model=slid,
            style_="flex: 1 1 40%",
        )
        solara.InputText(
            spec["label"],
            value=words.number_text(value),
            on_value=typed,
            dense=True,
            suffix=spec["unit"],
            style={"flex": "1 1 60%"},
        )


@solara.component
def Controls(controls: solara.Reactive[dict], launched: str, words: PageWords):
    """Every control of the plan; picking a scenario sets them all to its values."""
    w, specs, values = words, control_specs(words), controls.value

    def set_value(key, value):
        controls.set({**controls.value, key: value})

    def pick(name):
        controls.set({**controls.value, **controls_of(load_scenario(name), name)})

    names = {name: w.scenario_name(name) for name in scenario_choices(launched)}
    Choice(w.say("scenario"), values["scenario_name"], names, pick)
    Choice(
        w.say("compare"),
        values["compare"],
        {c: w.say(f"compare_{c}") for c in COMPARISONS},
        lambda v: set_value("compare", v),
    )
    solara.InputText(w.say("seed"), value=values["seed"], on_value=lambda v: set_value("seed", v))
    Number(specs["scale"], values["scale"], lambda v: set_value("scale", v), w)
    solara.Text(w.say("budgets"), classes=["group-title"])
    for lever, setting in BUDGETS:
        key = budget_key(lever, setting)
        Number(specs[key], values[key], lambda v, key=key: set_value(key, v), w)
    solara.Text(w.say("targeting_title"), classes=["group-title"])
    for lever in TARGETED:
        key = f"{lever}_targeting"
        Choice(
            w.say("targeting", lever=w.names[lever]),
            values[key],
            {rule: w.say(f"rule_{rule}") for rule in targeting_choices(lever)},
            lambda v, key=key: set_value(key, v),
        )
    Choice(
        w.say("province"),
        values["target_province"],
        {p: w.place(p) for p in PROVINCE_NAMES},
        lambda v: set_value("target_province", v),
    )
    Choice(
        w.say("cluster"),
        values["target_cluster"],
        {c: w.cluster(c) for c in CLUSTER_NAMES},
        lambda v: set_value("target_cluster", v),
    )
    solara.Text(w.say("uncertainties"), classes=["group-title"])
    for name in UNCERTAINTY_CONTROLS:
        Number(specs[name], values[name], lambda v, name=name: set_value(name, v), w)


def pending_changes(controls: dict, applied: dict, words: PageWords) -> list[str]:
    """The controls changed since the run was built, as "label: old → new" in the page's words."""
    return [
        f"{_label(key, words)}: {_shown(key, applied.get(key), words)} → {_shown(key, value, words)}"
        for key, value in controls.items()
        if applied.get(key) != value
    ]


def _label(key: str, words: PageWords) -> str:
    specs = control_specs(words)
    if key in specs:
        return specs[key]["label"]
    if key.endswith("_targeting"):
        return words.say("targeting", lever=words.names[key.removesuffix("_targeting")])
    names = {"scenario_name": "scenario", "target_province": "province", "target_cluster": "cluster"}
    return words.say(names.get(key, key))


def _shown(key: str, value, words: PageWords) -> str:
    if key.endswith("_targeting"):
        return words.say(f"rule_{value}")
    shown = {
        "scenario_name": words.scenario_name,
        "compare": lambda v: words.say(f"compare_short_{v}"),
        "target_province": words.place,
        "target_cluster": words.cluster,
    }
    return words.isolate(shown.get(key, str)(value))


# --- the page -------------------------------------------------------------------------------


@solara.component
def RunBar(model, tick: solara.Reactive[int], controls: dict, applied: dict, words: PageWords, playing, tasks: dict):
    """Always on screen: the month, the plan's cost, Reset / Play / Step, progress and what waits for Reset."""
    w, _ = words, tick.value  # re-drawn as the run steps
    building, stepping, writing = (tasks[k].pending for k in ("build", "step", "write"))
    idle = model is not None and not (building or stepping or writing)
    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}, gap="12px"):
        solara.Text(w.say("title"), style={"font-weight": "bold", "font-size": "1.1em"})
        month = w.say("month", month=model.steps) if model is not None else w.say("building" if building else "no_run")
        solara.HTML(tag="b", unsafe_innerHTML=w.html(month), classes=["month"])
        cost = w.say("plan_cost", cost=f"{plan_cost_musd(controls):,.1f}")
        solara.HTML(tag="span", unsafe_innerHTML=w.html(cost), classes=["plan-cost"])
        solara.Button(w.say("reset"), color="primary", on_click=tasks["build"], disabled=building or writing)
        solara.Button(
            w.say("pause") if playing.value else w.say("play"),
            color="primary",
            on_click=lambda: playing.set(not playing.value),
            disabled=(not idle and not playing.value) or (model is not None and not model.running),
        )
        solara.Button(
            w.say("step"),
            color="primary",
            on_click=tasks["step"],
            disabled=not idle or playing.value or not model.running,
        )
    if tasks["build"].error:  # e.g. a typed budget below 0: say which, and let it be corrected
        solara.Error(w.say("build_failed", error=tasks["build"].exception), classes=["build-failed"])
    if building:
        solara.ProgressLinear(True)
        solara.Text(w.html(w.say("building_note", units=f"{round(85_000 * controls['scale']):,}")), classes=["busy"])
    changes = pending_changes(controls, applied, w) if applied else []
    if changes and not building:
        solara.Warning(w.html(w.say("pending", changes="; ".join(changes))), classes=["pending"], dense=True)


@solara.component
def Report(model: WorkshopModel, tick: solara.Reactive[int], words: PageWords, controls: dict, task, playing: bool):
    """Write report (in a thread; disabled meanwhile and while playing), then download it; and
    the current settings as a scenario file."""
    w, _ = words, tick.value  # re-drawn as the run steps
    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
        solara.Button(
            w.say("write_report"),
            color="primary",
            on_click=task,
            disabled=task.pending or playing or model.steps < 1,
        )
        name = Path(controls["scenario_name"]).stem
        solara.FileDownload(
            lambda: _settings_text(controls, w),
            filename=f"{name}-plan.toml",
            label=w.say("save_scenario"),
            mime_type="application/toml",
        )
    if model.steps < 1:
        solara.Text(w.say("report_needs_a_month"))
    if task.pending:
        solara.ProgressLinear(True)
        solara.Text(w.say("report_writing"), classes=["busy"])
    elif task.error:
        solara.Error(w.say("report_failed", error=task.exception))
    elif task.finished and task.value and task.value[0] == model.serial:  # not a report of an earlier run
        path = task.value[1]
        folder = path.relative_to(OUT_DIR).parts[0]  # the run's directory, named by its settings
        solara.Text(w.say("report_written", path=OUT_DIR / folder), classes=["run-written"])
        solara.FileDownload(
            lambda: path.read_bytes(),
            filename=f"{folder}.html",
            label=w.say("download_report"),
            mime_type="text/html",
        )


def _settings_text(controls: dict, words: PageWords) -> str:
    """The controls as a scenario file (what Reset would run), for `smesim run` and sweeps."""
    name = controls["scenario_name"]
    settings = {k: v for k, v in controls.items() if k not in ("scenario_name", "compare")}
    plan = planned_scenario(load_scenario(name), settings, words, [])
    return scenario_toml(plan, words.say("scenario_comment", source=name))


def make_page(scenario: str = "baseline", scale: float = DEFAULT_SCALE, lang: str = "en", digits: str = "latin"):
    """The page component; every browser session builds its own run."""
    words = PageWords(lang, digits)
    start = start_controls(scenario, scale)

    @solara.component
    def Page():
        controls = solara.use_reactive(start)
        applied: solara.Reactive[dict] = solara.use_reactive({})  # the controls the run was built from
        run: solara.Reactive[WorkshopModel | None] = solara.use_reactive(
            cast(WorkshopModel | None, None)
        )  # None: building
        # counts steps: only the run bar, the views and the report read it, so a step does not
        # re-draw the controls
        tick = solara.use_reactive(0)
        playing = solara.use_reactive(False)
        tab = solara.use_reactive(0)
        context = solara.use_memo(_kernel_context, [])

        def build():
            playing.set(False)
            wanted = dict(controls.value)
            run.set(None)  # the old run is freed before the new one is built (memory at full scale)
            run.set(WorkshopModel(**wanted, lang=lang, digits=digits))
            applied.set(wanted)
            tick.set(tick.value + 1)

        def advance():
            model = run.value
            if model is not None:  # Step is disabled while a run is built
                model.step()
                tick.set(tick.value + 1)

        def play():
            model = run.value
            while playing.value and model is not None and model.running and _page_open(context):
                if not player.is_current():  # a newer Play runs the loop
                    return
                model.step()
                tick.set(tick.value + 1)
            if playing.value and model is not None:  # stopped by itself, not by Pause
                why = "the horizon" if not model.running else "the page was closed or lost its connection"
                LOG.info("play stopped at month %d: %s", model.steps, why)
                if context is None or not context.closed_event.is_set():  # a closed session has no page to update
                    playing.set(False)

        def write():
            model = run.value
            return None if model is None else (model.serial, model.write_report())

        tasks = {
            "build": solara.lab.use_task(build, dependencies=None, raise_error=False),  # shown on the page
            "step": solara.lab.use_task(advance, dependencies=None),
            "write": solara.lab.use_task(write, dependencies=None, raise_error=False),
        }
        player = solara.lab.use_task(play, dependencies=[playing.value])

        def session():
            gc.collect()
            LOG.info("session opened: %d runs in memory before its own", len(LIVE_RUNS))
            tasks["build"]()

            def closed():  # Play, if on, stops by itself: the session's page is no longer open
                LOG.info("session closed")

            return closed

        solara.use_effect(session, [])
        model = run.value
        solara.Title(words.say("title"))
        if lang == "fa":
            _RightToLeft.element()
        solara.Style(views.PAGE_CSS + (views.RTL_CSS if lang == "fa" else ""))
        with solara.Column(classes=["workshop", "rtl" if lang == "fa" else "ltr"], gap="0px"):
            with solara.Column(classes=["run-bar"], gap="4px"):
                RunBar(model, tick, controls.value, applied.value, words, playing, tasks)
            with solara.Columns([1, 2], gutters_dense=True):
                with solara.Column(classes=["controls"]):
                    Controls(controls, scenario, words)
                with solara.Column(classes=["views"]):
                    if model is not None:
                        for note in model.notes:
                            solara.Warning(note)
                        # only the open tab is drawn (and re-drawn at each step)
                        with solara.lab.Tabs(value=tab.value, on_value=tab.set):
                            with solara.lab.Tab(words.say("tab_goals")):
                                if tab.value == 0:
                                    views.GoalsView(model, tick)
                                    Report(model, tick, words, controls.value, tasks["write"], playing.value)
                            with solara.lab.Tab(words.say("tab_economy")):
                                if tab.value == 1:
                                    views.EconomyView(model, tick)

    return Page


Page = make_page(
    os.environ.get("SMESIM_DASHBOARD_SCENARIO", "baseline"),
    float(os.environ.get("SMESIM_DASHBOARD_SCALE", DEFAULT_SCALE)),
    os.environ.get("SMESIM_DASHBOARD_LANG", "en"),
    os.environ.get("SMESIM_DASHBOARD_DIGITS", "latin"),
)
