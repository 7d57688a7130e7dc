"""The dashboard's run: `WorkshopModel`, an SMEModel built from the page's flat controls, with
a shadow comparison run stepped in lock-step; the controls that show a scenario
(`controls_of`); the run written as `smesim run` directories that `smesim replay` reproduces.

No solara here: the page (experiments.dashboard.app) imports this, tests and benchmarks can
build runs without a server."""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import logging
import time
import weakref
from pathlib import Path

import pandas as pd

from experiments.files import RESULTS_DIR
from experiments.inputs.goals import evaluate
from experiments.inputs.scenario import Scenario, load_scenario, parse_scenario, scenario_toml
from experiments.runs.provenance import now
from experiments.runs.rundir import remove_outputs, replication_frame, write_run_directory
from simulation import SMEModel
from simulation.geography import PROVINCE_NAMES
from simulation.policy import CLUSTER_NAMES, LEVERS, Policy

from .words import PageWords

__all__ = [
    "BASELINE",
    "BUDGETS",
    "COMPARISONS",
    "DEFAULT_SCALE",
    "LIVE_RUNS",
    "LOG",
    "OUT_DIR",
    "SCENARIO_FILE",
    "TARGETED",
    "UNCERTAINTY_CONTROLS",
    "WorkshopModel",
    "budget_key",
    "controls_of",
    "plan_cost_musd",
    "planned_scenario",
    "targeting_choices",
]

DEFAULT_SCALE = 0.1
BASELINE = "baseline"
OUT_DIR = RESULTS_DIR / "dashboard"
SCENARIO_FILE = "scenario.toml"  # the run's settings as a scenario file, beside its report
MUSD = 1e6
LOG = logging.getLogger("smesim.dashboard")
# Every WorkshopModel alive in this process (weak: the page's memory check, logged per session)
LIVE_RUNS: weakref.WeakSet = weakref.WeakSet()
_SERIALS = itertools.count(1)  # WorkshopModel.serial: which run a report on the page belongs to

# Budget controls: (lever, setting) -> the top of the slider in USD m a year (a typed value may exceed it)
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
# What "baseline" means on the page: today's policies under this run's shocks and uncertainties
# (shows the levers' effect), or the baseline scenario as it is (no shocks; shows a shock's effect).
COMPARISONS = ("policies", "baseline")
# Levers with targeting on the page; "province" and "cluster" targeting serve the one province and
# the one cluster picked on the page (a scenario file's longer lists are kept while untouched).
TARGETED = tuple(lever for lever, specs in LEVERS.items() if "targeting" in specs)


def budget_key(lever: str, setting: str) -> str:
    return f"{lever}_{setting.removesuffix('_usd')}_musd"


def targeting_choices(lever: str) -> list[str]:
    return list(LEVERS[lever]["targeting"].allowed)


def plan_cost_musd(controls: dict) -> float:
    """The plan's yearly cost: the sum of the budget controls, USD m a year."""
    return sum(float(controls[budget_key(*key)]) for key in BUDGETS)


def _listed(policy: Policy, name: str, everything: tuple[str, ...]) -> str:
    """The first province (or cluster) a targeted lever lists, else the first of all."""
    levers = policy.to_dict()
    return next((x for lever in TARGETED for x in levers[lever].get(name, ())), everything[0])


def controls_of(scenario: Scenario, scenario_name: str) -> dict:
    """The control values that show `scenario` (picked as `scenario_name`): its seed, budgets,
    targeting, listed province and cluster, uncertainties, and the comparison that shows
    something (a scenario with today's policies is compared with the no-shock baseline)."""
    from simulation.parameters import parameter_metadata

    meta, levers = parameter_metadata(), scenario.policy.to_dict()
    base_policy = load_scenario(BASELINE).policy
    return {
        "scenario_name": scenario_name,
        "seed": str(scenario.seed),
        "compare": "baseline" if scenario.policy == base_policy else "policies",
        **{budget_key(lever, s): levers[lever][s] / MUSD for lever, s in BUDGETS},
        **{f"{lever}_targeting": levers[lever]["targeting"] for lever in TARGETED},
        "target_province": _listed(scenario.policy, "provinces", PROVINCE_NAMES),
        "target_cluster": _listed(scenario.policy, "clusters", CLUSTER_NAMES),
        **{name: float(scenario.uncertainties.get(name, meta[name]["default"])) for name in UNCERTAINTY_CONTROLS},
    }


def planned_scenario(scenario: Scenario, controls: dict, words: PageWords, notes: list[str]) -> Scenario:
    """`scenario` with the controls given (seed, scale, budgets, targeting, uncertainties) as one
    replication; a control not given keeps the scenario's value. What the controls had to change
    (a bad seed, ranking targeting without a ranking) is added to `notes`. A plan that differs
    from the scenario says so in its description."""
    seed = controls.get("seed")
    planned = dataclasses.replace(
        scenario,
        seed=scenario.seed if seed is None else _seed(seed, words, notes),
        scale=float(controls.get("scale", scenario.scale)),
        policy=_policy_from_controls(scenario.policy, controls, words, notes),
        uncertainties=_uncertainties(scenario, controls),
        replications=1,
    )
    if (planned.policy, planned.uncertainties) != (scenario.policy, scenario.uncertainties):
        planned = dataclasses.replace(planned, description=words.say("changed_plan", description=scenario.description))
    return planned


def _uncertainties(scenario: Scenario, controls: dict) -> dict[str, float]:
    """The scenario's uncertainties with the controls that differ from their values in it (a
    control left at the default adds nothing: the plan stays the scenario's)."""
    from simulation.parameters import parameter_metadata

    meta, values = parameter_metadata(), dict(scenario.uncertainties)
    for name in UNCERTAINTY_CONTROLS:
        if name in controls and float(controls[name]) != values.get(name, meta[name]["default"]):
            values[name] = float(controls[name])
    return values


def _seed(text, words: PageWords, notes: list[str]) -> int:
    """The seed control's text as a whole number >= 0; anything else gives seed 1 and a note
    (a bad entry must not end the session)."""
    try:
        seed = int(str(text).strip())
    except ValueError:
        seed = -1
    if seed < 0:
        notes.append(words.say("seed_note", text=text))
        return 1
    return seed


def _policy_from_controls(policy: Policy, controls: dict, words: PageWords, notes: list[str]) -> Policy:
    levers = policy.to_dict()
    for lever, setting in BUDGETS:
        key = budget_key(lever, setting)
        if key in controls:
            levers[lever][setting] = float(controls[key]) * MUSD
    for lever in TARGETED:
        rule = controls.get(f"{lever}_targeting", levers[lever]["targeting"])
        if rule == "ranking" and levers["ranking"]["budget_usd"] <= 0:
            notes.append(words.say("ranking_note", lever=words.names[lever]))
            rule = "all"
        for name, picked, everything in (
            ("provinces", "target_province", PROVINCE_NAMES),
            ("clusters", "target_cluster", CLUSTER_NAMES),
        ):
            if name not in levers[lever]:
                continue
            wanted = rule == name[:-1]  # "province" uses provinces, "cluster" clusters
            first = _listed(policy, name, everything)
            pick = controls.get(picked, first)
            kept = wanted and rule == levers[lever]["targeting"] and pick == first  # a file's list, untouched
            levers[lever][name] = levers[lever][name] if kept else ([pick] if wanted else [])
        levers[lever]["targeting"] = rule
    return Policy.from_dict(levers)


class WorkshopModel(SMEModel):
    """SMEModel built from the dashboard's flat controls, with a shadow comparison run.

    Keyword parameters: scenario_name (a shipped scenario's name or a scenario file), seed,
    scale, compare (COMPARISONS; default: what `controls_of` picks), one
    `<lever>_<setting>_musd` per budget (USD m a year), `<lever>_targeting` per targeted lever,
    target_province and target_cluster, the four uncertainties, and the page's lang and
    digits. A control not given keeps the scenario's value. The run and its comparison use the
    scenario runner's seed for replication 0, so a dashboard run matches `smesim run` of its
    scenario file (`scenario_text`)."""

    def __init__(
        self,
        *,
        scenario_name: str = BASELINE,
        seed: int | str | None = None,
        scale: float = DEFAULT_SCALE,
        compare: str | None = None,
        with_baseline: bool = True,
        lang: str = "en",
        digits: str = "latin",
        **controls,
    ):
        scenario = load_scenario(scenario_name)
        known = set(controls_of(scenario, scenario_name)) - {"scenario_name", "seed", "compare"}
        unknown = sorted(set(controls) - known)
        if unknown:
            raise TypeError(f"unknown dashboard control(s) {unknown}")
        if compare not in (None, *COMPARISONS):
            raise ValueError(f"compare must be one of {COMPARISONS}, got {compare!r}")
        self.words = PageWords(lang, digits)
        self.notes: list[str] = []
        self.scenario_name = scenario_name
        self.compare = compare or controls_of(scenario, scenario_name)["compare"]
        self.serial = next(_SERIALS)
        self.run_scenario = planned_scenario(
            scenario, {**controls, "seed": seed, "scale": scale}, self.words, self.notes
        )
        self.changed = self.run_scenario.description != scenario.description
        super().__init__(**self.run_scenario.model_kwargs(0))
        self.goals = dict(self.run_scenario.goals)
        self.baseline: SMEModel | None = None
        if with_baseline:
            self.baseline = SMEModel(**self.comparison_scenario().model_kwargs(0))
        self.step_seconds = 0.0
        LIVE_RUNS.add(self)

    def comparison_scenario(self) -> Scenario:
        """What the shadow runs: the run's scenario with today's policies ("policies"), or the
        baseline scenario as it is ("baseline"); either on the run's seed, scale and horizon."""
        base = load_scenario(BASELINE)
        if self.compare == "policies":
            return dataclasses.replace(self.run_scenario, name=f"{BASELINE}-policies", policy=base.policy)
        run = self.run_scenario
        return dataclasses.replace(base, seed=run.seed, scale=run.scale, months=run.months, replications=1)

    @property
    def horizon(self) -> int:
        """The scenario's months: the run ends there (`running` turns False: Play stops, Step is disabled)."""
        return self.run_scenario.months

    def step(self) -> None:
        started = time.perf_counter()
        super().step()
        if self.baseline is not None:
            self.baseline.step()
        self.step_seconds = time.perf_counter() - started
        self.running = self.steps < self.horizon
        LOG.debug("run %x stepped to month %d", id(self), self.steps)

    def history(self) -> pd.DataFrame:
        return self.datacollector.get_model_vars_dataframe()

    def baseline_history(self) -> pd.DataFrame | None:
        return None if self.baseline is None else self.baseline.datacollector.get_model_vars_dataframe()

    def scenario_text(self) -> str:
        """The run's settings as a scenario file that `smesim run` and sweeps accept."""
        return scenario_toml(self.run_scenario, self.words.say("scenario_comment", source=self.scenario_name))

    def settings_id(self) -> str:
        """A short hash of what was run: the scenario file, the comparison and the month."""
        return hashlib.sha256(f"{self.scenario_text()}\n{self.compare}\n{self.steps}".encode()).hexdigest()[:10]

    def write_run(self, out_dir: Path = OUT_DIR) -> Path:
        """The run so far as a comparison directory of `smesim run` directories, the months run
        as the horizon, named by the settings (`<scenario>[-changed]-<settings_id>-month<M>`):
        `<name>/` with the run, `baseline/` with the comparison, and scenario.toml (the full
        plan, the scenario file to run or sweep). Each replays identically (`smesim replay`)."""
        if self.steps < 1:
            raise ValueError("step at least one month before writing a report")
        name = Path(self.scenario_name).stem + ("-changed" if self.changed else "")
        out = Path(out_dir) / f"{name}-{self.settings_id()}-month{self.steps}"
        _write_run_directory(self, self.run_scenario, name, out / name)
        if self.baseline is not None:
            _write_run_directory(self.baseline, self.comparison_scenario(), BASELINE, out / BASELINE)
        (out / SCENARIO_FILE).write_text(self.scenario_text(), encoding="utf-8")
        return out

    def write_report(self, out_dir: Path = OUT_DIR) -> Path:
        """Write the run directories (write_run) and their HTML report (experiments.report); its path."""
        from experiments.report.html import build_report

        return build_report(self.write_run(out_dir), lang=self.words.lang, digits=self.words.digits)


def _write_run_directory(model: SMEModel, scenario: Scenario, name: str, out: Path) -> None:
    """`model`'s months so far as a run directory whose manifest holds a scenario text of exactly
    what ran: `scenario` with those months as its horizon (shocks after them left out: they had
    not come), so `smesim replay` re-runs it identically."""
    ran = dataclasses.replace(
        scenario, months=model.steps, shocks=tuple(s for s in scenario.shocks if s.month <= model.steps)
    )
    text = scenario_toml(ran, f"written by smesim dashboard at month {model.steps}")
    ran = parse_scenario(text, f"{name}.toml", name)
    frame = replication_frame(model, 0, ran.seed)
    remove_outputs(out)
    write_run_directory(
        out,
        ran,
        frame,
        tuple(evaluate(goal, frame, ran.months) for goal in ran.goals.values()),
        command=["smesim", "dashboard"],
        started=now(),
        seconds=0.0,
        model_seeds=[model.seed],
    )
