"""`smesim dashboard`: the model in the browser (Mesa's SolaraViz on solara).

Pick a shipped scenario, set every lever's budget and targeting and four main uncertainties,
then step, play, pause and reset (SolaraViz's controls; a change of the controls takes
effect on Reset). The page shows the four goals of experiments/goals.toml against their
targets beside the baseline scenario run on the same seed (a shadow `SMEModel` stepped in
lock-step), and aggregate views that suit 85,000 firms: units by status, exports by
destination, the firm-size histogram, active units by province and consortia. "Write report"
writes the run and its baseline as `smesim run` directories and their HTML report under
results/dashboard/.

The charts are SVG drawn by the browser (experiments.dashboard.svg_charts): a step's page update stays
within half a second at full scale, and Persian text is shaped correctly. Every browser
session gets its own model, so two people with the page open do not step each other's run.
Words: English or Persian (`--lang fa`, right to left; `--digits persian`), except Mesa's own
controls (Step, Reset, play, the intervals) and the names of provinces and destinations.

Settings from: "controls" takes lever budgets, targeting and the four uncertainties from the
controls (the scenario supplies shocks, constants and the levers' other settings);
"scenario" runs the scenario file as it is and ignores the controls.
Launch: `smesim dashboard [SCENARIO] [--scale S] [--lang en|fa] [--digits latin|persian]
[--port P] [--host H]`, or `solara run experiments/dashboard/app.py` (SMESIM_DASHBOARD_SCENARIO,
_SCALE, _LANG and _DIGITS in the environment).
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import time
from html import escape
from pathlib import Path

import numpy as np
import pandas as pd
import solara

from experiments.dashboard.svg_charts import Series, Target, bar_chart, line_chart, plain_number
from experiments.dashboard.words import PageWords
from experiments.files import RESULTS_DIR
from experiments.inputs.goals import evaluate, load_goals
from experiments.inputs.scenario import load_scenario, shipped_scenarios
from experiments.runs.provenance import now
from experiments.runs.rundir import remove_outputs, replication_frame, write_run_directory
from simulation import SMEModel
from simulation.geography import PROVINCE_NAMES
from simulation.parameters import parameter_metadata
from simulation.policy import CLUSTER_NAMES, LEVERS, Policy
from simulation.state import ACTIVE, STATUS_NAMES

__all__ = [
    "BUDGETS",
    "DEFAULT_SCALE",
    "GOAL_UNITS",
    "UNCERTAINTY_CONTROLS",
    "WorkshopModel",
    "budget_key",
    "goal_charts",
    "make_page",
    "model_params",
    "targeting_choices",
]

DEFAULT_SCALE = 0.1
BASELINE = "baseline"
OUT_DIR = RESULTS_DIR / "dashboard"
MUSD = 1e6

# Budget controls: (lever, setting) -> maximum of the slider in USD m a year (names: CONTROL_NAMES)
BUDGETS = {
    ("training", "budget_usd"): 50,
    ("clinics", "budget_usd"): 100,
    ("consortia", "budget_usd"): 50,
    ("clusters", "budget_usd"): 100,
    ("sukuk", "budget_usd"): 20,
    ("listing", "budget_usd"): 20,
    ("infrastructure", "budget_usd"): 300,
    ("rural_zones", "budget_usd"): 200,
    ("matchmaking", "budget_usd"): 50,
    ("technology", "budget_usd"): 100,
    ("credit", "grants_usd"): 200,
    ("credit", "subsidised_credit_usd"): 500,
    ("ranking", "budget_usd"): 5,
}
UNCERTAINTY_CONTROLS = (
    "inflation_rate",
    "real_exchange_rate_drift",
    "foreign_demand_growth",
    "sanctions_risk_multiplier",
)
# Levers with targeting on the page; "province" and "cluster" targeting serve the one province and
# the one cluster picked on the page (scenario files can list several).
TARGETED = tuple(lever for lever, specs in LEVERS.items() if "targeting" in specs)


def budget_key(lever: str, setting: str) -> str:
    return f"{lever}_{setting.removesuffix('_usd')}_musd"


def targeting_choices(lever: str) -> list[str]:
    return list(LEVERS[lever]["targeting"].allowed)


class WorkshopModel(SMEModel):
    """SMEModel built from the dashboard's flat controls, with a shadow baseline run.

    Keyword parameters: scenario_name, settings_from ("controls" or "scenario"), seed, scale,
    one `<lever>_<setting>_musd` per budget (USD m a year), `<lever>_targeting` per targeted
    lever, target_province and target_cluster (for "province" and "cluster" targeting), the
    four uncertainties, and the page's lang ("en", "fa") and digits ("latin", "persian"). The
    run and its baseline use the scenario runner's seed for replication 0, so a dashboard run
    matches `smesim run` of the same settings."""

    def __init__(
        self,
        *,
        scenario_name: str = BASELINE,
        settings_from: str = "controls",
        seed: int = 1,
        scale: float = DEFAULT_SCALE,
        target_province: str = PROVINCE_NAMES[0],
        target_cluster: str = CLUSTER_NAMES[0],
        with_baseline: bool = True,
        lang: str = "en",
        digits: str = "latin",
        scenario=None,
        **controls,
    ):
        # `scenario`: Mesa's Scenario object, which SolaraViz's reset passes to a model taking
        # **kwargs; ours is `scenario_name`, so it is ignored.
        known = (
            {budget_key(*k) for k in BUDGETS} | {f"{lever}_targeting" for lever in TARGETED} | set(UNCERTAINTY_CONTROLS)
        )
        unknown = sorted(set(controls) - known)
        if unknown:
            raise TypeError(f"unknown dashboard control(s) {unknown}")
        scenario = load_scenario(scenario_name)
        self.words = PageWords(lang, digits)
        self.notes: list[str] = []
        self.scenario_name, self.settings_from = scenario_name, settings_from
        seed, scale = self._seed(seed), float(scale)
        if settings_from == "scenario":
            policy, uncertainties = scenario.policy, dict(scenario.uncertainties)
        else:
            policy = self._policy_from_controls(scenario.policy, controls, target_province, target_cluster)
            uncertainties = {
                **scenario.uncertainties,
                **{name: float(controls[name]) for name in UNCERTAINTY_CONTROLS if name in controls},
            }
        self.run_scenario = dataclasses.replace(
            scenario, seed=seed, scale=scale, policy=policy, uncertainties=uncertainties, replications=1
        )
        kwargs = self.run_scenario.model_kwargs(0)
        super().__init__(**kwargs)
        self.goals = load_goals()
        self.baseline: SMEModel | None = None
        if with_baseline:
            base = load_scenario(BASELINE)
            self.baseline = SMEModel(**{**kwargs, "policy": base.policy})
        self.step_seconds = 0.0

    def _seed(self, text) -> int:
        """The seed control's text as a whole number >= 0; anything else gives seed 1 and a note
        (a bad entry must not end the session)."""
        try:
            seed = int(str(text).strip())
        except ValueError:
            seed = -1
        if seed < 0:
            self.notes.append(self.words.say("seed_note", text=text))
            return 1
        return seed

    def _policy_from_controls(self, policy: Policy, controls: dict, province: str, cluster: str) -> Policy:
        levers = policy.to_dict()
        for (lever, setting), _ in BUDGETS.items():
            key = budget_key(lever, setting)
            if key in controls:
                levers[lever][setting] = float(controls[key]) * MUSD
        for lever in TARGETED:
            rule = controls.get(f"{lever}_targeting", levers[lever]["targeting"])
            if rule == "ranking" and levers["ranking"]["budget_usd"] <= 0:
                self.notes.append(self.words.say("ranking_note", lever=self.words.names[lever]))
                rule = "all"
            levers[lever]["targeting"] = rule
            if "provinces" in levers[lever]:
                levers[lever]["provinces"] = [province] if rule == "province" else []
            if "clusters" in levers[lever] and (rule != "cluster" or f"{lever}_targeting" in controls):
                levers[lever]["clusters"] = [cluster] if rule == "cluster" else []
        return Policy.from_dict(levers)

    @property
    def horizon(self) -> int:
        """The scenario's months: the run ends there (`running` turns False, which stops SolaraViz's
        Play and disables its Step)."""
        return self.run_scenario.months

    def step(self) -> None:
        started = time.perf_counter()
        super().step()
        if self.baseline is not None:
            self.baseline.step()
        self.step_seconds = time.perf_counter() - started
        self.running = self.steps < self.horizon

    def history(self) -> pd.DataFrame:
        return self.datacollector.get_model_vars_dataframe()

    def baseline_history(self) -> pd.DataFrame | None:
        return None if self.baseline is None else self.baseline.datacollector.get_model_vars_dataframe()

    def write_run(self, out_dir: Path = OUT_DIR) -> Path:
        """The run so far as a comparison directory of run directories in the format of
        `smesim run` (indicators.parquet, manifest.json last), the months run so far as the
        horizon: `<scenario>-dashboard/` and, with the shadow, `baseline/` (the reference)."""
        out = Path(out_dir) / f"{self.run_scenario.name}-seed{self.run_scenario.seed}-month{self.steps}"
        name = f"{self.run_scenario.name}-dashboard"
        scenario = dataclasses.replace(self.run_scenario, name=name, overrides={"settings_from": self.settings_from})
        _write_run_directory(self, scenario, out / name)
        if self.baseline is not None:
            base = dataclasses.replace(self.run_scenario, name=BASELINE, policy=load_scenario(BASELINE).policy)
            _write_run_directory(self.baseline, base, out / BASELINE)
        return out

    def write_report(self, out_dir: Path = OUT_DIR) -> Path:
        """Write the run directories (write_run) and their HTML report (experiments.report); its path."""
        from experiments.report.html import build_report

        return build_report(self.write_run(out_dir), lang=self.words.lang, digits=self.words.digits)


def _write_run_directory(model: SMEModel, scenario, out: Path) -> None:
    frame = replication_frame(model, 0, scenario.seed)
    scenario = dataclasses.replace(scenario, months=model.steps)  # manifest rows: months + 1
    remove_outputs(out)
    goals = tuple(evaluate(goal, frame, max(model.steps, 1)) for goal in scenario.goals.values())
    write_run_directory(
        out,
        scenario,
        frame,
        goals,
        command=["smesim", "dashboard"],
        started=now(),
        seconds=0.0,
        model_seeds=[model.seed],
    )


# --- model parameters (the controls) ---------------------------------------------------------


def model_params(
    scenario: str = BASELINE, scale: float = DEFAULT_SCALE, lang: str = "en", digits: str = "latin"
) -> dict:
    """SolaraViz's controls, each starting at the launch scenario's value (its budgets, targeting,
    uncertainties and seed), so a Reset that changes nothing runs that scenario again."""
    meta, w = parameter_metadata(), PageWords(lang, digits)
    start = load_scenario(scenario)
    levers = start.policy.to_dict()
    params: dict = {
        "scenario_name": {
            "type": "Select",
            "value": scenario,
            "values": list(shipped_scenarios()),
            "label": w.say("scenario"),
        },
        "settings_from": {
            "type": "Select",
            "value": "controls",
            "values": ["controls", "scenario"],
            "label": w.say("settings_from"),
        },
        "seed": {"type": "InputText", "value": str(start.seed), "label": w.say("seed")},
        "scale": {
            "type": "SliderFloat",
            "value": scale,
            "min": 0.05,
            "max": 1.0,
            "step": 0.05,
            "label": w.say("scale"),
        },
    }
    for (lever, setting), top in BUDGETS.items():
        value = levers[lever][setting] / MUSD
        params[budget_key(lever, setting)] = {
            "type": "SliderFloat",
            "value": value,
            "min": 0.0,
            "max": float(max(top, value)),
            "step": 0.5,
            "label": w.say("budget", lever=w.names[lever, setting]),
        }
    for lever in TARGETED:
        params[f"{lever}_targeting"] = {
            "type": "Select",
            "value": levers[lever]["targeting"],
            "values": targeting_choices(lever),
            "label": w.say("targeting", lever=w.names[lever]),
        }
    listed = {
        name: [x for lever in TARGETED for x in levers[lever].get(name, ())] for name in ("provinces", "clusters")
    }
    params["target_province"] = {
        "type": "Select",
        "value": (listed["provinces"] or PROVINCE_NAMES)[0],
        "values": list(PROVINCE_NAMES),
        "label": w.say("province"),
    }
    params["target_cluster"] = {
        "type": "Select",
        "value": (listed["clusters"] or CLUSTER_NAMES)[0],
        "values": list(CLUSTER_NAMES),
        "label": w.say("cluster"),
    }
    for name in UNCERTAINTY_CONTROLS:  # half the plausible range beyond each side, within what is allowed
        lo, hi = meta[name]["plausible"]
        allowed_lo, allowed_hi = meta[name]["allowed"]
        span = hi - lo
        value = float(start.uncertainties.get(name, meta[name]["default"]))
        params[name] = {
            "type": "SliderFloat",
            "value": value,
            "min": min(max(lo - 0.5 * span, allowed_lo), value),
            "max": max(min(hi + 0.5 * span, allowed_hi), value),
            "step": round(span / 40, 4),
            "label": f"{w.names[name]} ({w.names.get(meta[name]['unit'], meta[name]['unit'])})",
        }
    params["lang"], params["digits"] = lang, digits  # fixed: no control, kept by Reset
    return params


# --- views ----------------------------------------------------------------------------------

# indicator -> (divisor, unit key) on the goal charts and in the goal table
GOAL_UNITS = {
    "units_activated": (1e3, "unit_thousand_units"),
    "units_activated_distinct": (1e3, "unit_thousand_units"),
    "exports_usd": (1e9, "unit_usd_bn_year"),
    "export_share": (1e-2, "unit_percent"),
    "sme_employment_share": (1e-2, "unit_percent"),
}
RUN_COLOUR, BASELINE_COLOUR = "#1f77b4", "#7f7f7f"
STATUS_COLOURS = ("#ff7f0e", "#1f77b4", "#9467bd", "#7f7f7f")
SIZE_EDGES = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)  # employees: 1, 2-4, ..., 1,000+
GOALS_MONTH = 48  # the goals' four years: the charts' time axis reaches it (a goal without a month of its own)


def _render_counter():
    from mesa.visualization.utils import update_counter

    return update_counter.get()


def _show(model: WorkshopModel, markup: str, classes: list[str]) -> None:
    """Markup in a div, right to left for Persian; the charts inside keep a left-to-right time axis."""
    direction = "rtl" if model.words.lang == "fa" else "ltr"
    solara.HTML(tag="div", unsafe_innerHTML=model.words.html(f"<div dir='{direction}'>{markup}</div>"), classes=classes)


def _charts(svgs: list[str]) -> str:
    return "<div dir='ltr' style='display:flex;flex-wrap:wrap;gap:6px'>" + "".join(svgs) + "</div>"


def _table(header: list[str], rows: list[list[str]]) -> str:
    cells = "".join(f"<th style='padding:2px 8px'>{escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td style='padding:2px 8px'>{escape(c)}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table class='goal-table' style='border-collapse:collapse'><tr>{cells}</tr>{body}</table>"


def goal_charts(model: WorkshopModel, charts: bool = True) -> tuple[list[str], list[list[str]]]:
    """The four goal charts (SVG; none with charts=False) and the goal table's rows at the current month."""
    w, run, base = model.words, model.history(), model.baseline_history()
    svgs, rows = [], []
    for goal in model.goals.values():
        unit, unit_key = GOAL_UNITS.get(goal.indicator, (1.0, None))
        unit_label = w.say(unit_key) if unit_key else ""
        series = [Series(w.say("this_run"), run[goal.indicator] / unit, RUN_COLOUR)]
        if base is not None:
            series.append(Series(w.say("baseline"), base[goal.indicator] / unit, BASELINE_COLOUR, dashed=True))
        targets = [
            Target(bound / unit, w.say("target", value=plain_number(bound / unit)))
            for bound in (goal.at_least, goal.at_most)
            if bound is not None
        ]
        if charts:
            svgs.append(
                line_chart(
                    w.goal(goal),
                    run.index,
                    series,
                    targets=targets,
                    marker_x=goal.month_for(GOALS_MONTH),
                    x_label=w.say("axis_month"),
                    y_label=unit_label,
                    width=410,
                    height=210,
                )
            )
        month = min(model.steps, goal.month_for(GOALS_MONTH))  # past its month, a goal is judged there
        value = float(run[goal.indicator].iloc[month])
        base_value = float(base[goal.indicator].iloc[month]) if base is not None else float("nan")
        spaced_unit = unit_label if unit_label in ("%", "") else " " + unit_label
        rows.append(
            [
                w.goal(goal),
                f"{value / unit:,.2f}{spaced_unit}",
                f"{base_value / unit:,.2f}",
                w.say(_goal_status(goal, value, model.steps >= goal.month_for(GOALS_MONTH))),
            ]
        )
    return svgs, rows


def _goal_status(goal, value: float, judged: bool) -> str:
    """The goal table's word: "met" or "missed" at the goal's month, "met" or "not yet" before it."""
    if goal.is_met(value):
        return "met"
    return "missed" if judged else "not_yet"


@solara.component
def Goals(model: WorkshopModel):
    """The four goal charts (left half of page 0)."""
    _render_counter()
    _show(model, _charts(goal_charts(model)[0]), ["goal-charts"])


@solara.component
def GoalTable(model: WorkshopModel):
    """The month, the goal table at this month, notes, and the report button (right half of page 0)."""
    _render_counter()
    w = model.words
    status = w.say(
        "status",
        scenario=model.scenario_name,
        scale=model.scale,
        seed=model.run_scenario.seed,
        ms=f"{model.step_seconds * 1000:.0f}",
    )
    header = [w.say("col_goal"), w.say("col_run"), w.say("col_baseline"), w.say("col_met")]
    _show(
        model,
        f"<p><b class='month'>{escape(w.say('month', month=model.steps))}</b> ({escape(status)})</p>"
        + _table(header, goal_charts(model, charts=False)[1]),
        ["goal-status"],
    )
    for note in model.notes:
        solara.Warning(note)
    Report(model)


@solara.component
def Units(model: WorkshopModel):
    _render_counter()
    w, run = model.words, model.history()
    series = [
        Series(w.names[name], run[f"{name}_units"] / 1e3, colour)
        for name, colour in zip(STATUS_NAMES, STATUS_COLOURS, strict=True)
    ]
    _show(
        model,
        _charts(
            [line_chart(w.say("units_title"), run.index, series, x_label=w.say("axis_month"), width=480, height=260)]
        ),
        ["units-chart"],
    )


@solara.component
def Exports(model: WorkshopModel):
    _render_counter()
    w = model.words
    run = model.exports_by_destination() / 1e9
    columns = [(w.say("this_run"), run, RUN_COLOUR)]  # (label, USD bn by destination, colour)
    if model.baseline is not None:
        columns.append(
            (w.say("baseline"), model.baseline.exports_by_destination().reindex(run.index) / 1e9, BASELINE_COLOUR)
        )
    largest = pd.concat([values for _, values, _ in columns], axis=1).max(axis=1).sort_values(ascending=False)
    shown = largest.index[largest > 0][:12]
    groups = [Series(label, values.reindex(shown).to_numpy(), colour) for label, values, colour in columns]
    _show(
        model,
        _charts(
            [
                bar_chart(
                    w.say("exports_title"),
                    list(shown),
                    groups,
                    horizontal=True,
                    value_label=w.say("unit_usd_bn_year"),
                    width=480,
                    height=320,
                )
            ]
        ),
        ["exports-chart"],
    )


@solara.component
def Firms(model: WorkshopModel):
    _render_counter()
    w, f = model.words, model.firms
    active = f.status == ACTIVE
    counts, _ = np.histogram(np.maximum(f.employees[active], 1), bins=[*SIZE_EDGES, np.inf])
    sizes = [f"{a:,}" if b - a == 1 else f"{a:,}–{b - 1:,}" for a, b in itertools.pairwise(SIZE_EDGES)]
    sizes.append(f"{SIZE_EDGES[-1]:,}+")
    by_province = np.bincount(f.province[active], minlength=len(PROVINCE_NAMES)) / model.scale
    top = np.argsort(by_province, kind="stable")[::-1][:15]
    size_chart = bar_chart(
        w.say("size_title"),
        sizes,
        [Series(w.say("size_axis"), counts / model.scale, RUN_COLOUR)],
        value_label=w.say("size_axis"),
        width=420,
        height=260,
    )
    province_chart = bar_chart(
        w.say("province_title"),
        [PROVINCE_NAMES[i] for i in top],
        [Series(w.say("size_axis"), by_province[top], RUN_COLOUR)],
        value_label=w.say("size_axis"),
        width=480,
        height=300,
    )
    _show(model, _charts([size_chart, province_chart]), ["firm-charts"])


@solara.component
def Consortia(model: WorkshopModel):
    _render_counter()
    w, run, base = model.words, model.history(), model.baseline_history()
    series = [Series(w.say("this_run"), run["consortia"], RUN_COLOUR)]
    if base is not None:
        series.append(Series(w.say("baseline"), base["consortia"], BASELINE_COLOUR, dashed=True))
    counts = np.bincount(model.firms.status, minlength=len(STATUS_NAMES)) / model.scale
    now = ", ".join(f"{w.names[name]} {n:,.0f}" for name, n in zip(STATUS_NAMES, counts, strict=True))
    _show(
        model,
        _charts(
            [
                line_chart(
                    w.say("consortia_title"),
                    run.index,
                    series,
                    x_label=w.say("axis_month"),
                    y_label=w.say("consortia_axis"),
                    width=480,
                    height=240,
                )
            ]
        )
        + f"<p>{escape(w.say('units_now'))}: {escape(now)}</p>",
        ["consortia-chart"],
    )


@solara.component
def Report(model: WorkshopModel):
    _render_counter()
    w = model.words
    written, set_written = solara.use_state("")

    def write():
        try:
            set_written(w.say("report_written", path=model.write_report()))
        except Exception as error:  # noqa: BLE001 - shown on the page, not a crash of the session
            set_written(w.say("report_failed", error=error))

    solara.Button(w.say("write_report"), on_click=write, color="primary")
    if written:
        solara.Text(written, classes=["run-written"])


def make_page(scenario: str = BASELINE, scale: float = DEFAULT_SCALE, lang: str = "en", digits: str = "latin"):
    """The page component: SolaraViz over a WorkshopModel made for each browser session."""
    from mesa.visualization import SolaraViz

    params = model_params(scenario, scale, lang, digits)
    title = PageWords(lang, digits).say("title")

    @solara.component
    def Page():
        # One model per session (use_memo runs once per session): people with the page open
        # in two browsers do not step each other's run.
        model = solara.use_memo(
            lambda: WorkshopModel(scenario_name=scenario, scale=scale, lang=lang, digits=digits), []
        )
        # Page 0: the goal charts, and the goal table with the report button; page 1: the aggregate views.
        SolaraViz(
            model,
            components=[(Goals, 0), (GoalTable, 0), (Units, 1), (Exports, 1), (Firms, 1), (Consortia, 1)],
            model_params=params,
            name=title,
            play_interval=50,
        )

    return Page


Page = make_page(
    os.environ.get("SMESIM_DASHBOARD_SCENARIO", BASELINE),
    float(os.environ.get("SMESIM_DASHBOARD_SCALE", DEFAULT_SCALE)),
    os.environ.get("SMESIM_DASHBOARD_LANG", "en"),
    os.environ.get("SMESIM_DASHBOARD_DIGITS", "latin"),
)
