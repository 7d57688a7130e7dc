"""Each lever's effect in the model beside the published evidence (`smesim validate --levers`).

For every single-lever scenario (the shipped `lever_*.toml`, or any scenarios named) it runs the
scenario and the baseline on the same seeds (replication r of both with `Scenario.model_kwargs(r)`,
the scale replaced: the scale check's runner) and `lever_statistics` turns the runs into one row
per lever:

- the paired effect (scenario - baseline) at the horizon on the goal indicators (GOALS), the mean
  over seeds with its t interval, and the fiscal cost (`policy_spend_usd`, cumulative to the
  horizon) the same way;
- `cost_per_job_usd` = mean fiscal cost / mean employment effect, and `exports_per_usd` = mean
  exports effect (USD a year) / mean fiscal cost a year (the cost / (months / 12)). Their
  intervals are Fieller's for a ratio of paired means, bounded exactly when the denominator's t
  interval excludes 0. Cost per job is n/a when the employment effect's interval contains 0 or
  lies below it; exports per USD when the fiscal cost's does (`note` says which);
- `matched_employment_gain` (levers that match suppliers to buyers, beyond the baseline): the
  units existing at month 0 that the scenario first linked to a buyer in the run's first year
  (COHORT_MONTHS), while the same unit in the paired baseline run had no link yet; their total
  employment at the horizon over the same units' in the baseline, minus 1 (per seed, then the
  mean and its t interval);
- the published figure of the lever (experiments/inputs/lever_evidence.toml): a range of a
  metric and the `verdict` "in range" (the model's interval overlaps it), "below" or "above";
  a published sign of an indicator's effect and "sign agrees", "sign differs" or "sign
  unclear" (the interval contains 0 where the study found a positive effect); "no published
  range"; or "n/a" when the model's figure is undefined.

Nothing here draws random numbers, and the runs come back in a fixed order: the table does not
depend on the number of workers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from experiments.analysis.scale_check import (
    Task,
    check_scale,
    paired_scenarios,
    run_indicators,
    run_tasks,
)
from experiments.analysis.statistics import check_confidence, mean_interval
from experiments.errors import from_file
from experiments.files import read_toml
from experiments.formatting import format_change, format_table, format_value, format_with_interval
from experiments.inputs import checks
from experiments.inputs.scenario import MAX_REPLICATIONS, Scenario, shipped_scenarios
from simulation import INDICATORS, SMEModel
from simulation.errors import InputError
from simulation.policy import LEVERS

__all__ = [
    "COHORT_MONTHS",
    "COLUMNS",
    "EVIDENCE_FILE",
    "GOALS",
    "METRICS",
    "SIGNS",
    "VERDICTS",
    "Evidence",
    "format_lever_effects",
    "lever_effect_runs",
    "lever_effects",
    "lever_policies",
    "lever_statistics",
    "load_evidence",
    "matched_gain",
    "ratio_interval",
    "run_tracking_links",
]

EVIDENCE_FILE = Path(__file__).parents[1] / "inputs" / "lever_evidence.toml"
GOALS = ("units_activated_distinct", "employment", "exports_usd", "sme_employment_share")
SPEND = "policy_spend_usd"
COST_PER_JOB, EXPORTS_PER_USD, MATCHED = "cost_per_job_usd", "exports_per_usd", "matched_employment_gain"
METRICS = (EXPORTS_PER_USD, COST_PER_JOB, MATCHED, *GOALS)  # the ratios, the matched gain, or an effect's sign
SIGNS = ("positive", "non-negative")
COHORT_MONTHS = 12  # matched suppliers: first linked in months 1..12, their employment read at the horizon
IN_RANGE, BELOW, ABOVE, NO_RANGE, NA = "in range", "below", "above", "no published range", "n/a"
SIGN_AGREES, SIGN_DIFFERS, SIGN_UNCLEAR = "sign agrees", "sign differs", "sign unclear"
VERDICTS = (IN_RANGE, BELOW, ABOVE, NO_RANGE, NA, SIGN_AGREES, SIGN_DIFFERS, SIGN_UNCLEAR)
RUN_KEYS = ("scenario", "scale", "months", "replication")
EFFECTS = (*GOALS, SPEND)
COLUMNS = (
    "policy",
    "lever",
    "seeds",
    "scale",
    "months",
    *(f"{name}{end}" for name in EFFECTS for end in ("_effect", "_effect_low", "_effect_high")),
    *(f"{name}{end}" for name in (COST_PER_JOB, EXPORTS_PER_USD, MATCHED) for end in ("", "_low", "_high")),
    "matched_suppliers",
    "metric",
    "model",
    "model_low",
    "model_high",
    "published_low",
    "published_high",
    "published_sign",
    "verdict",
    "study",
    "country",
    "evidence_note",
    "note",
)


# --- the evidence file ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Evidence:
    """A lever's published figure: a range [low, high] of `metric`, or the sign of its effect, or
    neither (no published range)."""

    lever: str
    metric: str
    study: str
    country: str
    note: str
    low: float = math.nan
    high: float = math.nan
    sign: str = ""

    @property
    def has_range(self) -> bool:
        return not math.isnan(self.low)


EVIDENCE_KEYS = ("metric", "low", "high", "sign", "study", "country", "note")


def _evidence(lever: str, table: Mapping) -> Evidence:
    checks.unknown_keys(lever, table, EVIDENCE_KEYS, "key of a lever's evidence")
    for key in ("metric", "study", "country", "note"):
        if key not in table:
            raise InputError(f"{lever}.{key}", "missing; a lever's evidence needs metric, study, country and note")
    study, country, note = (
        checks.one_line(f"{lever}.{key}", table[key], f"({key})") for key in ("study", "country", "note")
    )
    metric = table["metric"]
    if metric not in METRICS:
        raise InputError(f"{lever}.metric", f"unknown metric {metric!r}; allowed: {', '.join(METRICS)}")
    if ("low" in table) != ("high" in table):
        raise InputError(f"{lever}.{'high' if 'low' in table else 'low'}", "missing; a range needs both low and high")
    if "sign" in table:
        if "low" in table:
            raise InputError(f"{lever}.sign", "give a range (low, high) or a sign, not both")
        if table["sign"] not in SIGNS or metric not in GOALS:
            raise InputError(f"{lever}.sign", f"must be one of {', '.join(SIGNS)}, of an indicator's effect")
        return Evidence(lever, metric, study, country, note, sign=table["sign"])
    if "low" not in table:
        return Evidence(lever, metric, study, country, note)
    low = checks.number(f"{lever}.low", table["low"], None, None)
    high = checks.number(f"{lever}.high", table["high"], low, None, what=f"a number >= low ({low})")
    if metric in GOALS:
        raise InputError(f"{lever}.metric", f"a range needs a ratio ({EXPORTS_PER_USD}, {COST_PER_JOB}, {MATCHED})")
    return Evidence(lever, metric, study, country, note, low=float(low), high=float(high))


def load_evidence(path: str | Path = EVIDENCE_FILE) -> dict[str, Evidence]:
    """The published figures by lever; InputFileError naming the file and the key."""
    path = Path(path)
    file = str(path)
    data = read_toml(path)
    evidence = {}
    try:
        for lever, table in data.items():
            if lever not in LEVERS:
                raise InputError(lever, f"unknown lever {lever!r}; allowed: {', '.join(LEVERS)}")
            evidence[lever] = _evidence(lever, checks.table(lever, table, "a lever's evidence"))
    except InputError as error:
        raise from_file(file, error) from None
    return evidence


def lever_policies() -> list[str]:
    """The shipped single-lever scenarios (lever_<name>), in the order of simulation.policy.LEVERS."""
    shipped = shipped_scenarios()
    return [f"lever_{lever}" for lever in LEVERS if f"lever_{lever}" in shipped]


def _lever(policy: str) -> str:
    """The lever a scenario name stands for ("" for a scenario that is not lever_<name>)."""
    lever = policy.removeprefix("lever_")
    return lever if lever != policy and lever in LEVERS else ""


# --- the statistics: pure functions --------------------------------------------------------------


def ratio_interval(top, bottom, confidence: float = 0.95) -> tuple[float, float, float]:
    """mean(top) / mean(bottom) over paired values, and Fieller's interval: the ratios R for which
    mean(top - R bottom) is within its t interval of 0. (ratio, NaN, NaN) when the interval is
    unbounded, i.e. when the t interval of mean(bottom) contains 0."""
    a, b = np.asarray(top, dtype=float), np.asarray(bottom, dtype=float)
    keep = np.isfinite(a) & np.isfinite(b)
    a, b = a[keep], b[keep]
    n = len(a)
    if n < 2 or b.mean() == 0:
        return math.nan, math.nan, math.nan
    ma, mb = float(a.mean()), float(b.mean())
    cov = np.cov(a, b, ddof=1)
    q = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) ** 2 / n
    curve = mb * mb - q * cov[1, 1]  # R^2 curve - 2 R middle + end <= 0
    middle = ma * mb - q * cov[0, 1]
    end = ma * ma - q * cov[0, 0]
    if curve <= 0:
        return ma / mb, math.nan, math.nan
    half = math.sqrt(max(middle * middle - curve * end, 0.0))
    return ma / mb, (middle - half) / curve, (middle + half) / curve


def matched_gain(
    first_linked: np.ndarray,
    employees: np.ndarray,
    base_first_linked: np.ndarray,
    base_employees: np.ndarray,
    cohort_months: int = COHORT_MONTHS,
) -> tuple[int, float]:
    """The matched suppliers of one pair of runs and their employment gain (see the module's doc).

    Arrays over the units existing at month 0 (the same rows in both runs): the month each was
    first linked to a buyer (-1: never; 0: at the start) and its employees at the horizon. The
    matched units: first linked in months 1..cohort_months in the scenario, and not linked in
    the baseline before or in that month. Returns their number and their total employment over
    the baseline's, minus 1 (NaN without matched units or baseline employment)."""
    first, base_first = np.asarray(first_linked), np.asarray(base_first_linked)
    matched = (first >= 1) & (first <= cohort_months) & ((base_first < 0) | (base_first > first))
    base = float(np.asarray(base_employees)[matched].sum())
    if not matched.any() or base <= 0:
        return int(matched.sum()), math.nan
    return int(matched.sum()), float(np.asarray(employees)[matched].sum()) / base - 1.0


def _judge_range(low: float, high: float, evidence: Evidence) -> str:
    if math.isnan(low) or math.isnan(high):
        return NA
    if high < evidence.low:
        return BELOW
    if low > evidence.high:
        return ABOVE
    return IN_RANGE


def _judge_sign(low: float, high: float, sign: str) -> str:
    if high < 0:
        return SIGN_DIFFERS
    if sign == "non-negative" or low > 0:
        return SIGN_AGREES
    return SIGN_UNCLEAR


def _check_runs(runs: pd.DataFrame, baseline: str) -> None:
    missing = [c for c in (*RUN_KEYS, *EFFECTS) if c not in runs.columns]
    if missing:
        raise InputError("runs", f"the runs table has no column {', '.join(missing)}")
    if runs.duplicated(["scenario", "replication"]).any():
        raise InputError("runs", "the runs table holds a (scenario, replication) more than once")
    if baseline not in set(runs["scenario"]):
        raise InputError("baseline", f"the runs table has no run of the baseline {baseline!r}")
    if runs["months"].nunique() != 1 or runs["scale"].nunique() != 1:
        raise InputError("runs", "every run of the table needs the same months and scale")


def _ratios(diff: pd.DataFrame, months: int, confidence: float) -> tuple[dict, list[str]]:
    """Cost per job and exports per USD of one policy's paired differences, and why either is n/a."""
    notes = []
    _, jobs, _, jobs_low, _ = mean_interval(diff["employment"], confidence)
    cost_low = mean_interval(diff[SPEND], confidence)[3]
    per_job = ratio_interval(diff[SPEND], diff["employment"], confidence)
    if not jobs_low > 0:
        per_job = (math.nan, math.nan, math.nan)
        why = "is negative" if jobs < 0 else "has an interval containing 0"
        notes.append(f"cost per job n/a: the employment effect {why}")
    per_usd = ratio_interval(diff["exports_usd"], diff[SPEND] / (months / 12), confidence)
    if not cost_low > 0:
        per_usd = (math.nan, math.nan, math.nan)
        notes.append("exports per USD n/a: the fiscal cost is not clearly positive")
    ratios = {COST_PER_JOB: per_job, EXPORTS_PER_USD: per_usd}
    return {
        f"{name}{end}": v for name, r in ratios.items() for end, v in zip(("", "_low", "_high"), r, strict=True)
    }, notes


def lever_statistics(
    runs: pd.DataFrame,
    evidence: Mapping[str, Evidence] | None = None,
    *,
    baseline: str = "baseline",
    confidence: float = 0.95,
) -> pd.DataFrame:
    """The table of lever effects from the table of runs (pure: no model is run).

    `runs`: one row per run, columns `scenario`, `scale`, `months`, `replication` (replication r
    of a scenario is paired with the baseline's), the indicators GOALS and policy_spend_usd at
    the horizon, and optionally `matched_employment_gain` and `matched_suppliers` (per pair, on
    the scenario's rows). `evidence`: by lever (default: load_evidence()); a scenario lever_<name>
    is compared with the lever's. Returns one row per scenario other than the baseline, in the
    order they first appear, with the columns COLUMNS. Every scenario needs >= 2 paired seeds."""
    check_confidence(confidence)
    _check_runs(runs, baseline)
    evidence = load_evidence() if evidence is None else evidence
    months, scale = int(runs["months"].iloc[0]), float(runs["scale"].iloc[0])
    by_scenario = {name: group.set_index("replication").sort_index() for name, group in runs.groupby("scenario")}
    base = by_scenario[baseline]
    rows = []
    for policy in dict.fromkeys(runs["scenario"]):
        if policy == baseline:
            continue
        mine = by_scenario[policy]
        common = mine.index.intersection(base.index)
        if len(common) < 2:
            raise InputError("seeds", f"{policy!r} has {len(common)} seeds paired with the baseline; needs >= 2")
        diff = mine.loc[common, list(EFFECTS)] - base.loc[common, list(EFFECTS)]
        row: dict = {"policy": policy, "lever": _lever(policy), "seeds": len(common), "scale": scale, "months": months}
        for name in EFFECTS:
            _, mean, _, low, high = mean_interval(diff[name], confidence)
            row.update({f"{name}_effect": mean, f"{name}_effect_low": low, f"{name}_effect_high": high})
        ratios, notes = _ratios(diff, months, confidence)
        row.update(ratios)
        matched = mine.reindex(columns=[MATCHED, "matched_suppliers"]).loc[common]  # NaN where not followed
        _, gain, _, gain_low, gain_high = mean_interval(matched[MATCHED], confidence)
        row.update({MATCHED: gain, f"{MATCHED}_low": gain_low, f"{MATCHED}_high": gain_high})
        row["matched_suppliers"] = matched["matched_suppliers"].mean()  # NaN when not followed
        row.update(_beside(row, evidence.get(row["lever"]), notes))
        rows.append(row)
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _beside(row: Mapping, evidence: Evidence | None, notes: list[str]) -> dict:
    """The columns from `metric` to `note`: the model's figure of the evidence's metric and the verdict."""
    if evidence is None:
        notes = ["no evidence listed for this scenario", *notes]
        return {"metric": "", "published_sign": "", "verdict": NO_RANGE, "study": "", "note": "; ".join(notes)}
    metric = evidence.metric
    column = metric if metric in (COST_PER_JOB, EXPORTS_PER_USD, MATCHED) else f"{metric}_effect"
    value, low, high = row[column], row[f"{column}_low"], row[f"{column}_high"]
    if evidence.has_range:
        verdict = _judge_range(low, high, evidence)
        if verdict == IN_RANGE and low <= 0 <= high and not evidence.low <= 0 <= evidence.high:
            notes = [*notes, "in range only as far as its wide interval, which contains 0, goes"]
    elif evidence.sign:
        verdict = _judge_sign(low, high, evidence.sign)
    else:
        verdict = NO_RANGE
    if metric == MATCHED and math.isnan(value):
        notes = [*notes, "no matched suppliers (or none employed in the baseline)"]
    return {
        "metric": metric,
        "model": value,
        "model_low": low,
        "model_high": high,
        "published_low": evidence.low,
        "published_high": evidence.high,
        "published_sign": evidence.sign,
        "verdict": verdict,
        "study": evidence.study,
        "country": evidence.country,
        "evidence_note": evidence.note,
        "note": "; ".join(notes),
    }


# --- the runs ------------------------------------------------------------------------------------


def run_tracking_links(kwargs: dict, months: int) -> tuple[dict[str, float], np.ndarray, np.ndarray]:
    """One run, as `run_indicators`, that also records for each unit existing at month 0 the month
    it was first linked to a buyer (-1: never) and its employees at the horizon (a worker's task)."""
    try:
        model = SMEModel(**kwargs)
    except InputError as error:
        raise ValueError(str(error)) from None
    n = model.firms.n
    first = np.where(model.supply_chain.linked(model.firms)[:n], 0, -1)

    def record(month: int) -> None:
        first[model.supply_chain.linked(model.firms)[:n] & (first < 0)] = month

    model.run(months, each_month=record)
    indicators = {name: float(value) for name, value in model.indicators().items()}
    return indicators, first, model.firms.employees[:n].copy()


def _matches_more(scenario: Scenario, base: Scenario) -> bool:
    """Whether the scenario's matchmaking budget exceeds the baseline's (its matched suppliers are followed)."""
    return scenario.policy["matchmaking"]["budget_usd"] > base.policy["matchmaking"]["budget_usd"]


def lever_effect_runs(
    policies: Iterable[str | Path] | None = None,
    scale: float = 0.1,
    seeds: int = 6,
    months: int = 48,
    workers: int | None = None,
    progress: bool = True,
    baseline: str | Path = "baseline",
) -> pd.DataFrame:
    """The runs: each scenario (default: lever_policies()) and the baseline, replications
    0 .. seeds-1 on the baseline's seed, at `scale`, `months` months each. One row per run, the
    baseline first: RUN_KEYS, every indicator at the horizon, and for scenarios that match
    suppliers beyond the baseline `matched_suppliers` (national scale) and
    `matched_employment_gain` of the pair. InputError names a bad argument."""
    checks.whole("seeds", seeds, 2, MAX_REPLICATIONS, " (paired seeds: intervals need at least two)")
    if workers is not None:
        checks.whole("workers", workers, 0, None, " (0: in this process)")
    scale = check_scale("scale", scale)
    base, scenarios = paired_scenarios(
        lever_policies() if policies is None else policies, months, scale, baseline, "scale"
    )
    followed = {s.name for s in scenarios if _matches_more(s, base)}
    everyone = [base, *scenarios]
    tracked = {s.name for s in everyone if s.name in followed or (s is base and followed)}
    keys = [(s, r) for s in everyone for r in range(seeds)]
    tasks: list[Task] = [
        (run_tracking_links if s.name in tracked else run_indicators, {**s.model_kwargs(r), "scale": scale}, months)
        for s, r in keys
    ]
    results = dict(
        zip(((s.name, r) for s, r in keys), run_tasks(tasks, workers, progress, "lever effects"), strict=True)
    )
    rows = []
    for s, r in keys:
        result = results[(s.name, r)]
        indicators = result[0] if s.name in tracked else result
        row = {"scenario": s.name, "scale": scale, "months": months, "replication": r, **indicators}
        if s.name in followed:
            count, gain = matched_gain(result[1], result[2], *results[(base.name, r)][1:])
            row.update(matched_suppliers=count / scale, matched_employment_gain=gain)
        rows.append(row)
    return pd.DataFrame(rows).reindex(columns=[*RUN_KEYS, *INDICATORS, "matched_suppliers", MATCHED])


def lever_effects(
    policies: Iterable[str | Path] | None = None,
    scale: float = 0.1,
    seeds: int = 6,
    months: int = 48,
    workers: int | None = None,
    progress: bool = True,
    evidence: str | Path = EVIDENCE_FILE,
) -> pd.DataFrame:
    """Each scenario's paired effects, costs and published figure (the module's doc): the evidence
    file read first, then `lever_effect_runs`, then `lever_statistics`."""
    published = load_evidence(evidence)
    runs = lever_effect_runs(policies, scale, seeds, months, workers, progress)
    return lever_statistics(runs, published, baseline=str(runs["scenario"].iloc[0]))


# --- the table as text ---------------------------------------------------------------------------


def _gain_text(value: float) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:+.0%}"


def _per_usd_text(value: float) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:,.1f}"


def _published(row) -> str:
    if row.published_sign:
        return row.published_sign
    if pd.isna(row.published_low):
        return "none"
    if row.metric == MATCHED:
        return f"{row.published_low:+.0%} to {row.published_high:+.0%}"
    fmt = _per_usd_text if row.metric == EXPORTS_PER_USD else partial(format_value, row.metric)
    return f"{fmt(row.published_low)} to {fmt(row.published_high)}"


def _model_figure(row) -> str:
    if not row.metric:
        return ""
    if row.metric == MATCHED:
        fmt = _gain_text
    elif row.metric in GOALS:
        fmt = partial(format_change, row.metric)
    elif row.metric == EXPORTS_PER_USD:
        fmt = _per_usd_text
    else:
        fmt = partial(format_value, row.metric)
    return format_with_interval(row.model, row.model_low, row.model_high, fmt)


def format_lever_effects(frame: pd.DataFrame) -> str:
    """Two tables, one row per lever: the paired effects and the fiscal cost with their intervals;
    then the cost per job, exports per USD and the compared metric beside the published figure,
    with the verdict; then the notes (why a figure is n/a) and the sources."""
    if frame.empty:
        return "no scenario"
    first = frame.iloc[0]
    effects = []
    for row in frame.itertuples(index=False):
        cells = [row.policy]
        for name in EFFECTS:
            mean, low, high = (getattr(row, f"{name}_effect{end}") for end in ("", "_low", "_high"))
            cells.append(format_with_interval(mean, low, high, partial(format_change, name)))
        effects.append(cells)
    header = ("policy", "units activated", "employment", "SME exports (USD/yr)", "SME empl. share", "fiscal cost (USD)")
    title = (
        f"Paired effects at month {first.months} (scenario - baseline), mean over {first.seeds} seeds "
        f"(95% t interval), scale {first.scale:g}, national figures; fiscal cost cumulative to the horizon"
    )
    evidence = []
    for row in frame.itertuples(index=False):
        per_job = format_with_interval(
            row.cost_per_job_usd, row.cost_per_job_usd_low, row.cost_per_job_usd_high, partial(format_value, "cost_usd")
        )
        per_usd = format_with_interval(
            row.exports_per_usd, row.exports_per_usd_low, row.exports_per_usd_high, _per_usd_text
        )
        evidence.append(
            (row.policy, per_job, per_usd, row.metric or "-", _model_figure(row), _published(row), row.verdict)
        )
    header2 = ("policy", "cost per job (USD)", "exports per USD", "metric", "model", "published", "verdict")
    notes = [f"  {row.policy}: {row.note}" for row in frame.itertuples(index=False) if row.note]
    sources = [
        f"  {row.policy}: {row.study}; {row.country}. {row.evidence_note}"
        for row in frame.itertuples(index=False)
        if row.study and row.study != "none found"
    ]
    parts = [
        f"{title}\n{format_table(header, effects)}",
        "Beside the published evidence (Fieller 95% intervals of the ratios; in range: the model's interval "
        f"overlaps the published range)\n{format_table(header2, evidence)}",
    ]
    if notes:
        parts.append("Notes:\n" + "\n".join(notes))
    if sources:
        parts.append("Sources (experiments/inputs/lever_evidence.toml):\n" + "\n".join(sources))
    return "\n\n".join(parts)
