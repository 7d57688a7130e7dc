"""`smesim dashboard`: the model in the browser (Mesa's SolaraViz on solara).

Pick a shipped scenario, set every lever's budget and targeting and four main uncertainties,
then step, play, pause and reset (SolaraViz's controls; a change of the controls takes
effect on Reset). The page shows the four goals of experiments/goals.toml against their
targets beside the baseline scenario run on the same seed (a shadow `SMEModel` stepped in
lock-step), and aggregate views that suit 85,000 firms: units by status, exports by
destination, the firm-size histogram, active units by province and consortia. "Write run
directory" writes the current run as `indicators.parquet` + `manifest.json` (the format of
`smesim run`) under results/dashboard/.

Settings from: "controls" takes lever budgets, targeting and the four uncertainties from the
controls (the scenario supplies shocks, constants and the levers' other settings);
"scenario" runs the scenario file as it is and ignores the controls.
Launch: `smesim dashboard [SCENARIO] [--scale S] [--port P] [--host H]`, or
`solara run experiments/dashboard.py` (SMESIM_DASHBOARD_SCENARIO / _SCALE in the environment).
"""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import solara
from matplotlib.figure import Figure

from experiments.files import write_json_atomically, write_parquet_atomically
from experiments.goals import load_goals
from experiments.runner import INDICATORS_FILE, MANIFEST_FILE, SCHEMA, _manifest, _now
from experiments.goals import evaluate
from experiments.scenario import load_scenario, shipped_scenarios
from simulation import INDICATORS, SMEModel
from simulation.geography import PROVINCE_NAMES
from simulation.parameters import parameter_metadata
from simulation.policy import LEVERS, Policy
from simulation.state import ACTIVE, STATUS_NAMES

DEFAULT_SCALE = 0.1
BASELINE = "baseline"
OUT_DIR = Path("results") / "dashboard"
MUSD = 1e6

# Budget controls: (lever, setting) -> (label, maximum in USD m a year)
BUDGETS = {
    ("training", "budget_usd"): ("Training and fairs budget", 50),
    ("clinics", "budget_usd"): ("Clinics budget", 100),
    ("consortia", "budget_usd"): ("Consortia budget", 50),
    ("clusters", "budget_usd"): ("Cluster projects budget", 100),
    ("sukuk", "budget_usd"): ("Sukuk issuance subsidy budget", 20),
    ("listing", "budget_usd"): ("Listing support budget", 20),
    ("infrastructure", "budget_usd"): ("Park infrastructure budget", 300),
    ("rural_zones", "budget_usd"): ("Rural zones budget", 200),
    ("matchmaking", "budget_usd"): ("Matchmaking budget", 50),
    ("technology", "budget_usd"): ("Technology budget", 100),
    ("credit", "grants_usd"): ("Grants", 200),
    ("credit", "subsidised_credit_usd"): ("Subsidised credit line", 500),
    ("ranking", "budget_usd"): ("Ranking budget", 5),
}
UNCERTAINTY_CONTROLS = ("inflation_rate", "real_exchange_rate_drift", "foreign_demand_growth", "sanctions_risk_multiplier")
# Targeting offered on the page: cluster targeting needs lists of sector x province names, left to scenario files.
TARGETED = tuple(lever for lever, specs in LEVERS.items() if "targeting" in specs)


def budget_key(lever: str, setting: str) -> str:
    return f"{lever}_{setting.removesuffix('_usd')}_musd"


def targeting_choices(lever: str) -> list[str]:
    return [c for c in LEVERS[lever]["targeting"].allowed if c != "cluster"]


class WorkshopModel(SMEModel):
    """SMEModel built from the dashboard's flat controls, with a shadow baseline run.

    Keyword parameters: scenario_name, settings_from ("controls" or "scenario"), seed, scale,
    one `<lever>_<setting>_musd` per budget (USD m a year), `<lever>_targeting` per targeted
    lever, target_province (for "province" targeting), and the four uncertainties. The run and
    its baseline use the scenario runner's seed for replication 0, so a dashboard run matches
    `smesim run` of the same settings."""

    def __init__(self, *, scenario_name: str = BASELINE, settings_from: str = "controls", seed: int = 1,
                 scale: float = DEFAULT_SCALE, target_province: str = PROVINCE_NAMES[0], with_baseline: bool = True,
                 scenario=None, **controls):
        # `scenario`: Mesa's Scenario object, which SolaraViz's reset passes to a model taking
        # **kwargs; ours is `scenario_name`, so it is ignored.
        known = {budget_key(*k) for k in BUDGETS} | {f"{lever}_targeting" for lever in TARGETED} | set(UNCERTAINTY_CONTROLS)
        unknown = sorted(set(controls) - known)
        if unknown:
            raise TypeError(f"unknown dashboard control(s) {unknown}")
        scenario = load_scenario(scenario_name)
        self.notes: list[str] = []
        self.scenario_name, self.settings_from = scenario_name, settings_from
        seed, scale = int(seed), float(scale)
        if settings_from == "scenario":
            policy, uncertainties = scenario.policy, dict(scenario.uncertainties)
        else:
            policy = self._policy_from_controls(scenario.policy, controls, target_province)
            uncertainties = {**scenario.uncertainties,
                             **{name: float(controls[name]) for name in UNCERTAINTY_CONTROLS if name in controls}}
        self.run_scenario = dataclasses.replace(scenario, seed=seed, scale=scale, policy=policy,
                                                uncertainties=uncertainties, replications=1)
        kwargs = self.run_scenario.model_kwargs(0)
        super().__init__(**kwargs)
        self.goals = load_goals()
        self.baseline: SMEModel | None = None
        if with_baseline:
            base = load_scenario(BASELINE)
            self.baseline = SMEModel(**{**kwargs, "policy": base.policy})
        self.step_seconds = 0.0

    def _policy_from_controls(self, policy: Policy, controls: dict, province: str) -> Policy:
        levers = policy.to_dict()
        for (lever, setting), _ in BUDGETS.items():
            key = budget_key(lever, setting)
            if key in controls:
                levers[lever][setting] = float(controls[key]) * MUSD
        for lever in TARGETED:
            rule = controls.get(f"{lever}_targeting", levers[lever]["targeting"])
            if rule == "ranking" and levers["ranking"]["budget_usd"] <= 0:
                self.notes.append(f"{lever}: ranking targeting needs a ranking budget > 0; using all")
                rule = "all"
            levers[lever]["targeting"] = rule
            if "provinces" in levers[lever]:
                levers[lever]["provinces"] = [province] if rule == "province" else []
            if "clusters" in levers[lever] and rule != "cluster":
                levers[lever]["clusters"] = []
        return Policy.from_dict(levers)

    def step(self) -> None:
        started = time.perf_counter()
        super().step()
        if self.baseline is not None:
            self.baseline.step()
        self.step_seconds = time.perf_counter() - started

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
        from experiments.report import build_report

        return build_report(self.write_run(out_dir))


def _write_run_directory(model: SMEModel, scenario, out: Path) -> None:
    frame = model.datacollector.get_model_vars_dataframe()[list(INDICATORS)].astype("float64").reset_index(drop=True)
    frame.insert(0, "month", range(len(frame)))
    frame.insert(0, "seed", scenario.seed)
    frame.insert(0, "replication", 0)
    scenario = dataclasses.replace(scenario, months=model.steps)  # manifest rows: months + 1
    out.mkdir(parents=True, exist_ok=True)
    (out / MANIFEST_FILE).unlink(missing_ok=True)
    goals = tuple(evaluate(goal, frame, max(model.steps, 1)) for goal in scenario.goals.values())
    write_parquet_atomically(pa.Table.from_pandas(frame, schema=SCHEMA, preserve_index=False), out / INDICATORS_FILE)
    write_json_atomically(_manifest(scenario, out, ["smesim", "dashboard"], _now(), 0.0, [model.seed], goals),
                          out / MANIFEST_FILE)


# --- model parameters (the controls) ---------------------------------------------------------


def model_params(scenario: str = BASELINE, scale: float = DEFAULT_SCALE) -> dict:
    meta = parameter_metadata()
    params: dict = {
        "scenario_name": {"type": "Select", "value": scenario, "values": list(shipped_scenarios()), "label": "Scenario"},
        "settings_from": {"type": "Select", "value": "controls", "values": ["controls", "scenario"],
                          "label": "Levers and uncertainties from"},
        "seed": {"type": "InputText", "value": "1", "label": "Seed"},
        "scale": {"type": "SliderFloat", "value": scale, "min": 0.05, "max": 1.0, "step": 0.05,
                  "label": "Scale (share of the 85,000 units simulated)"},
    }
    for (lever, setting), (label, top) in BUDGETS.items():
        params[budget_key(lever, setting)] = {"type": "SliderFloat", "value": 0.0, "min": 0.0, "max": float(top),
                                              "step": 0.5, "label": f"{label} (USD m a year)"}
    for lever in TARGETED:
        params[f"{lever}_targeting"] = {"type": "Select", "value": "all", "values": targeting_choices(lever),
                                        "label": f"{lever.replace('_', ' ').capitalize()} targeting"}
    params["target_province"] = {"type": "Select", "value": PROVINCE_NAMES[0], "values": list(PROVINCE_NAMES),
                                 "label": "Province for province targeting"}
    for name in UNCERTAINTY_CONTROLS:
        lo, hi = meta[name]["plausible"]
        span = hi - lo
        params[name] = {"type": "SliderFloat", "value": float(meta[name]["default"]), "min": lo - 0.5 * span,
                        "max": hi + 0.5 * span, "step": round(span / 40, 4),
                        "label": f"{name.replace('_', ' ')} ({meta[name]['unit']})"}
    return params


# --- views ----------------------------------------------------------------------------------

GOAL_SCALE = {"units_activated": (1e3, "thousand units"), "exports_usd": (1e9, "USD bn a year"),
              "export_share": (1e-2, "%"), "sme_employment_share": (1e-2, "%")}


def _figure(width: float = 6.0, height: float = 3.2) -> Figure:
    # No layout engine and 72 dpi: a render of the four goal panels costs about half as much.
    fig = Figure(figsize=(width, height), dpi=72)
    fig.subplots_adjust(left=0.1, right=0.98, bottom=0.12, top=0.9, wspace=0.3, hspace=0.45)
    return fig


def _render_counter():
    from mesa.visualization.utils import update_counter
    return update_counter.get()


@solara.component
def Goals(model: WorkshopModel):
    _render_counter()
    run, base = model.history(), model.baseline_history()
    fig = _figure(7.5, 5.0)
    axes = fig.subplots(2, 2).ravel()
    lines = []
    for ax, goal in zip(axes, model.goals.values()):
        unit, label = GOAL_SCALE.get(goal.indicator, (1.0, ""))
        ax.plot(run.index, run[goal.indicator] / unit, color="tab:blue", label="this run")
        if base is not None:
            ax.plot(base.index, base[goal.indicator] / unit, color="grey", ls="--", label="baseline")
        for bound in (goal.at_least, goal.at_most):
            if bound is not None:
                ax.axhline(bound / unit, color="tab:red", lw=1, label="target")
        ax.axvline(goal.month_for(48), color="tab:red", lw=0.6, ls=":")
        ax.set_title(goal.label, fontsize=8)
        ax.set_ylabel(label, fontsize=8)
        ax.tick_params(labelsize=7)
        ax.ticklabel_format(axis="y", useOffset=False)
        value = float(run[goal.indicator].iloc[-1])
        base_value = float(base[goal.indicator].iloc[-1]) if base is not None else float("nan")
        lines.append(f"| {goal.label} | {value / unit:,.2f} {label} | {base_value / unit:,.2f} | "
                     f"{'met' if goal.is_met(value) else 'not yet'} |")
    axes[0].legend(fontsize=7)
    axes[-1].set_xlabel("month", fontsize=8)
    solara.FigureMatplotlib(fig, format="png", dependencies=[model, model.steps])
    solara.Markdown(f"**Month {model.steps}** ({model.scenario_name}, scale {model.scale}, seed {model.run_scenario.seed}; "
                    f"last step with baseline {model.step_seconds * 1000:.0f} ms)\n\n"
                    "| goal | this run | baseline | target met |\n|---|---|---|---|\n" + "\n".join(lines))
    solara.Text(f"units activated: {run['units_activated'].iloc[-1]:.0f}", classes=["units-activated"])
    for note in model.notes:
        solara.Warning(note)


@solara.component
def Units(model: WorkshopModel):
    _render_counter()
    run = model.history()
    fig = _figure()
    ax = fig.subplots()
    for name in ("active_units", "idle_units", "under_construction_units", "closed_units"):
        ax.plot(run.index, run[name] / 1e3, label=name.removesuffix("_units").replace("_", " "))
    ax.set_title("Units by status (thousand)", fontsize=9)
    ax.set_xlabel("month", fontsize=8)
    ax.legend(fontsize=7)
    solara.FigureMatplotlib(fig, format="png", dependencies=[model, model.steps])


@solara.component
def Exports(model: WorkshopModel):
    _render_counter()
    run = model.exports_by_destination() / 1e9
    fig = _figure()
    ax = fig.subplots()
    y = np.arange(len(run))
    ax.barh(y + 0.2, run.values, height=0.4, label="this run")
    if model.baseline is not None:
        ax.barh(y - 0.2, model.baseline.exports_by_destination().values / 1e9, height=0.4, color="grey", label="baseline")
    ax.set_yticks(y, run.index, fontsize=7)
    ax.set_title("SME exports by destination (USD bn a year)", fontsize=9)
    ax.legend(fontsize=7)
    solara.FigureMatplotlib(fig, format="png", dependencies=[model, model.steps])


@solara.component
def Firms(model: WorkshopModel):
    _render_counter()
    f = model.firms
    active = f.status == ACTIVE
    fig = _figure(7.5, 3.2)
    left, right = fig.subplots(1, 2, width_ratios=[1, 1.6])
    fig.subplots_adjust(bottom=0.3)
    employees = f.employees[active]
    bins = np.geomspace(1, max(float(employees.max()) if employees.size else 2.0, 2.0), 30)
    left.hist(np.maximum(employees, 1), bins=bins, weights=np.full(employees.size, 1 / model.scale))
    left.set_xscale("log")
    left.set_title("Active units by employees", fontsize=9)
    left.tick_params(labelsize=7)
    by_province = np.bincount(f.province[active], minlength=len(PROVINCE_NAMES)) / model.scale
    order = np.argsort(by_province)[::-1][:15]
    right.bar(range(len(order)), by_province[order])
    right.set_xticks(range(len(order)), [PROVINCE_NAMES[i] for i in order], rotation=60, fontsize=6, ha="right")
    right.set_title("Active units, top 15 provinces", fontsize=9)
    right.tick_params(labelsize=7)
    solara.FigureMatplotlib(fig, format="png", dependencies=[model, model.steps])


@solara.component
def Consortia(model: WorkshopModel):
    _render_counter()
    run, base = model.history(), model.baseline_history()
    fig = _figure(6.0, 2.6)
    ax = fig.subplots()
    ax.plot(run.index, run["consortia"], label="this run")
    if base is not None:
        ax.plot(base.index, base["consortia"], color="grey", ls="--", label="baseline")
    ax.set_title("Export consortia", fontsize=9)
    ax.legend(fontsize=7)
    solara.FigureMatplotlib(fig, format="png", dependencies=[model, model.steps])
    counts = pd.Series(model.firms.status).value_counts()
    solara.Markdown("Units now (national scale): " + ", ".join(
        f"{STATUS_NAMES[i].replace('_', ' ')} {n / model.scale:,.0f}" for i, n in sorted(counts.items())))


@solara.component
def Report(model: WorkshopModel):
    _render_counter()
    written, set_written = solara.use_state("")

    def write():
        try:
            set_written(f"report written: {model.write_report()}")
        except Exception as error:  # noqa: BLE001 - shown on the page, not a crash of the session
            set_written(f"could not write the report: {error}")

    solara.Button("Write report", on_click=write, color="primary")
    if written:
        solara.Text(written, classes=["run-written"])


def make_page(scenario: str = BASELINE, scale: float = DEFAULT_SCALE):
    from mesa.visualization import SolaraViz

    model = WorkshopModel(scenario_name=scenario, scale=scale)
    # Page 0: the goals (rendered at every step); page 1: the aggregate views (rendered only
    # while their tab is shown: each matplotlib figure costs ~0.2-0.4 s on a small machine).
    return SolaraViz(model, components=[(Goals, 0), (Report, 0), (Units, 1), (Exports, 1), (Firms, 1), (Consortia, 1)],
                     model_params=model_params(scenario, scale), name="Iran's small industry: policy workshop",
                     play_interval=50)


page = make_page(os.environ.get("SMESIM_DASHBOARD_SCENARIO", BASELINE),
                 float(os.environ.get("SMESIM_DASHBOARD_SCALE", DEFAULT_SCALE)))
