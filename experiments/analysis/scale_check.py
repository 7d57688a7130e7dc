"""The scale check: does a policy's paired effect at a small `scale` equal its effect at full scale?

Researchers run the model at a small scale (a share of the real units) because it is cheap, and
read its indicators at national scale (sampled counts divided by the scale). That is only right
if a policy's effect, and the baseline itself, do not depend on the scale. `scale_check` measures
it: for each policy and each scale (the small ones and a reference, default 1.0) it runs the
policy and the baseline on the same seeds (replication r of both with
`Scenario.model_kwargs(r)`, the scale replaced), and `scale_statistics` turns the table of those
runs into one row per policy, indicator and scale:

- `effect`: the mean over seeds of the paired effect (policy - baseline) at the horizon, with its
  t interval (`effect_low`, `effect_high`), and the same at the reference scale
  (`reference_effect`, `reference_low`, `reference_high`);
- `ratio`: mean effect at the scale / mean effect at the reference scale, with a percentile
  bootstrap interval (`ratio_low`, `ratio_high`; the seeds resampled independently at both
  scales, a fixed generator per row);
- `verdict`: "agrees" when |ratio - 1| <= TOLERANCE or the ratio's interval contains 1;
  "small effect: agrees" / "small effect: differs" when the reference effect's own interval
  contains 0 (the ratio then means little: the two scales' effect intervals overlap, or not);
  else "differs". `agrees` is the verdict as a yes or no; the reference scale's own rows say
  "reference".

Rows with `policy` = the baseline's name (`measure` "level") check the baseline's own level at
each scale against the reference in the same way: it must be unbiased at every scale.

Runs are independent: `scale_check` runs them in worker processes (`ProcessPoolExecutor`), one
task per (scenario, scale, seed), and puts the results in a fixed order, so that nothing
depends on the number of workers or the order in which they finish.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import zlib
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.analysis.statistics import check_confidence, mean_interval, resample_counts
from experiments.errors import InputFileError, unknown_name
from experiments.formatting import format_change, format_table, format_value, format_with_interval
from experiments.inputs import checks
from experiments.inputs.scenario import (
    MAX_MONTHS,
    MAX_REPLICATIONS,
    Scenario,
    load_scenario,
    scenario_path,
    shipped_scenarios,
)
from experiments.runs.progress import SweepProgress
from simulation import INDICATORS, SMEModel
from simulation.errors import InputError

__all__ = [
    "BOOTSTRAP_SEED",
    "COLUMNS",
    "DEFAULT_INDICATORS",
    "MAX_SCALES",
    "MAX_WORKERS",
    "N_BOOTSTRAP",
    "TOLERANCE",
    "VERDICTS",
    "Task",
    "check_scale",
    "format_scale_check",
    "paired_scenarios",
    "run_indicators",
    "run_tasks",
    "scale_check",
    "scale_check_runs",
    "scale_statistics",
    "verdict",
]

DEFAULT_INDICATORS = ("units_activated", "exporters", "exports_usd", "employment")
TOLERANCE = 0.10  # a ratio within 10% of 1 agrees, whatever its interval
N_BOOTSTRAP = 2000
MAX_WORKERS = 1024  # worker processes (more would exhaust the machine before running anything)
MAX_SCALES = 20  # small scales of one check (each runs every policy on every seed)
BOOTSTRAP_SEED = 20240601  # root of every row's bootstrap generator (fixed: the same table, the same intervals)
RUN_KEYS = ("scenario", "scale", "replication")  # the key columns of the runs table
COLUMNS = (
    "policy",
    "measure",  # "effect" (policy - baseline, paired) or "level" (the baseline's own value)
    "indicator",
    "scale",
    "reference_scale",
    "seeds",
    "effect",
    "effect_low",
    "effect_high",
    "reference_effect",
    "reference_low",
    "reference_high",
    "ratio",
    "ratio_low",
    "ratio_high",
    "verdict",
    "agrees",
)
AGREES, DIFFERS, REFERENCE = "agrees", "differs", "reference"
SMALL_AGREES, SMALL_DIFFERS = "small effect: agrees", "small effect: differs"
VERDICTS = (AGREES, DIFFERS, SMALL_AGREES, SMALL_DIFFERS, REFERENCE)


# --- the statistics: a pure function of the runs table ---------------------------------------


def verdict(
    ratio: float,
    ratio_low: float,
    ratio_high: float,
    effect_low: float,
    effect_high: float,
    reference_low: float,
    reference_high: float,
    tolerance: float = TOLERANCE,
) -> str:
    """Whether an effect at a small scale agrees with the reference scale's (see the module's doc).

    When the reference effect's interval contains 0 the ratio means little ("small effect"), and
    the two effects' intervals are compared instead: "small effect: agrees" if they overlap."""
    if reference_low <= 0.0 <= reference_high:
        overlap = effect_low <= reference_high and reference_low <= effect_high
        return SMALL_AGREES if overlap else SMALL_DIFFERS
    if abs(ratio - 1.0) <= tolerance + 1e-12 or ratio_low <= 1.0 <= ratio_high:  # 1e-12: 1.1 - 1 > 0.1 in floats
        return AGREES
    return DIFFERS


def _row_generator(seed: int, *names: object) -> np.random.Generator:
    """A generator of its own for one row, from the row's names (not its position in the table)."""
    keys = tuple(zlib.crc32(repr(name).encode("utf-8")) for name in names)
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=keys))


def _bootstrap_means(rng: np.random.Generator, values: np.ndarray, n_bootstrap: int) -> np.ndarray:
    """The means of `n_bootstrap` resamples (with replacement) of `values`."""
    n = len(values)
    means = [counts @ values / n for counts in resample_counts(rng, n, n_bootstrap)]
    return np.concatenate(means)


def _ratio_interval(
    rng: np.random.Generator, values: np.ndarray, reference: np.ndarray, n_bootstrap: int, confidence: float
) -> tuple[float, float]:
    """Percentile bootstrap interval of mean(values) / mean(reference), both resampled independently."""
    top = _bootstrap_means(rng, values, n_bootstrap)
    bottom = _bootstrap_means(rng, reference, n_bootstrap)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = top / bottom
    ratios = ratios[~np.isnan(ratios)]  # 0 / 0: no ratio at all (an infinite one is kept)
    if len(ratios) == 0:
        return math.nan, math.nan
    tail = 100 * (1 - confidence) / 2
    # no interpolation between order statistics: an infinite ratio (a resample whose reference mean is 0) stays one
    low, high = np.percentile(ratios, [tail, 100 - tail], method="inverted_cdf")
    return float(low), float(high)


def _compare(
    values: np.ndarray,
    reference: np.ndarray,
    rng: np.random.Generator,
    *,
    is_reference: bool,
    confidence: float,
    tolerance: float,
    n_bootstrap: int,
) -> dict:
    """The columns from `effect` to `agrees` of one row: per-seed values at a scale and at the reference."""
    n, mean, _, low, high = mean_interval(values, confidence)
    _, ref_mean, _, ref_low, ref_high = mean_interval(reference, confidence)
    row = {
        "seeds": n,
        "effect": mean,
        "effect_low": low,
        "effect_high": high,
        "reference_effect": ref_mean,
        "reference_low": ref_low,
        "reference_high": ref_high,
    }
    if is_reference:
        return {**row, "ratio": 1.0, "ratio_low": math.nan, "ratio_high": math.nan, "verdict": REFERENCE}
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = float(np.float64(mean) / np.float64(ref_mean))
    ratio_low, ratio_high = _ratio_interval(rng, values, reference, n_bootstrap, confidence)
    return {
        **row,
        "ratio": ratio,
        "ratio_low": ratio_low,
        "ratio_high": ratio_high,
        "verdict": verdict(ratio, ratio_low, ratio_high, low, high, ref_low, ref_high, tolerance),
    }


def _check_runs(runs: pd.DataFrame, indicators: Sequence[str], baseline: str, reference_scale: float) -> None:
    missing = [c for c in (*RUN_KEYS, *indicators) if c not in runs.columns]
    if missing:
        raise InputError("runs", f"the runs table has no column {', '.join(missing)}")
    if runs.duplicated(list(RUN_KEYS)).any():
        raise InputError("runs", "the runs table holds a (scenario, scale, replication) more than once")
    if baseline not in set(runs["scenario"]):
        raise InputError("baseline", f"the runs table has no run of the baseline {baseline!r}")
    if reference_scale not in set(runs["scale"]):
        raise InputError("reference_scale", f"the runs table has no run at the reference scale {reference_scale}")


def scale_statistics(
    runs: pd.DataFrame,
    reference_scale: float = 1.0,
    *,
    baseline: str = "baseline",
    indicators: Sequence[str] = DEFAULT_INDICATORS,
    confidence: float = 0.95,
    tolerance: float = TOLERANCE,
    n_bootstrap: int = N_BOOTSTRAP,
    seed: int = BOOTSTRAP_SEED,
) -> pd.DataFrame:
    """The scale check's table from the table of runs (pure: no model is run).

    `runs`: one row per run, columns `scenario` (the baseline's name or a policy's), `scale`,
    `replication` (replication r of a policy is paired with replication r of the baseline at the
    same scale) and one per indicator (its value at the horizon). Policies are the other
    scenarios, in the order they first appear; scales ascending. Returns one row per policy,
    indicator and scale (the reference scale's rows included, verdict "reference"), then the
    baseline's level rows, with the columns COLUMNS (the module's doc says what each means).
    Every (scenario, scale) needs at least two paired seeds."""
    check_confidence(confidence)
    indicators = list(indicators)
    _check_runs(runs, indicators, baseline, reference_scale)
    scenarios = list(dict.fromkeys(runs["scenario"]))
    policies = [name for name in scenarios if name != baseline]
    scales = sorted(set(runs["scale"]))
    by_cell = {key: group.set_index("replication") for key, group in runs.groupby(["scenario", "scale"], sort=False)}

    def values(scenario: str, scale: float, indicator: str, paired_with: str | None) -> np.ndarray:
        if (scenario, scale) not in by_cell:
            raise InputError("runs", f"no run of {scenario!r} at scale {scale}")
        mine = by_cell[(scenario, scale)][indicator]
        if paired_with is not None:
            theirs = by_cell[(paired_with, scale)][indicator]
            common = mine.index.intersection(theirs.index).sort_values()
            mine = mine.loc[common] - theirs.loc[common]
        x = mine.sort_index().to_numpy(dtype=float)
        if np.isfinite(x).sum() < 2:
            what = f"{scenario!r} paired with {paired_with!r}" if paired_with else repr(scenario)
            raise InputError("seeds", f"{what} at scale {scale} has fewer than two seeds; the check needs >= 2")
        return x

    rows = []
    cases = [(p, "effect", baseline) for p in policies] + [(baseline, "level", None)]
    for policy, measure, paired_with in cases:
        for indicator in indicators:
            reference = values(policy, reference_scale, indicator, paired_with)
            for scale in scales:
                rng = _row_generator(seed, policy, measure, indicator, float(scale))
                row = _compare(
                    values(policy, scale, indicator, paired_with),
                    reference,
                    rng,
                    is_reference=scale == reference_scale,
                    confidence=confidence,
                    tolerance=tolerance,
                    n_bootstrap=n_bootstrap,
                )
                rows.append(
                    {
                        "policy": policy,
                        "measure": measure,
                        "indicator": indicator,
                        "scale": float(scale),
                        "reference_scale": float(reference_scale),
                        **row,
                    }
                )
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    frame["agrees"] = frame["verdict"].isin([AGREES, SMALL_AGREES, REFERENCE])
    frame["seeds"] = frame["seeds"].astype(int)
    return frame


# --- the runs -----------------------------------------------------------------------------------


def run_indicators(kwargs: dict, months: int) -> dict[str, float]:
    """One run: `SMEModel(**kwargs)` stepped `months` months; its indicators at the horizon.

    The task of a worker process (module-level, so that it pickles). The model's InputError is
    passed on as a ValueError with its text: an InputError does not survive the trip between
    processes (its constructor takes two arguments)."""
    try:
        model = SMEModel(**kwargs)
    except InputError as error:
        raise ValueError(str(error)) from None
    return {name: float(value) for name, value in model.run(months).indicators().items()}


def check_scale(key: str, value: object) -> float:
    """A scale in (0, 1], or an InputError naming `key`."""
    scale = checks.number(key, value, None, 1.0, what="a number in (0, 1] (1.0 = every real unit)")
    if not scale > 0:
        raise InputError(key, f"must be a number in (0, 1] (1.0 = every real unit), got {value!r}")
    return float(scale)


def _load(source: str | Path, key: str) -> Scenario:
    """A scenario by shipped name or path; an unknown one is an InputError naming `key`."""
    try:
        scenario_path(source)
    except InputFileError:
        listing = f"shipped: {', '.join(shipped_scenarios())}; or the path of a scenario file"
        raise InputError(key, unknown_name(str(source), shipped_scenarios(), "scenario", listing)) from None
    return load_scenario(source)


def _check_model_accepts(scenario: Scenario, scale: float, scale_key: str) -> None:
    """Build the model at the smallest scale before anything runs: a scale the model refuses
    (too few units) is reported as a bad `scale_key`, other refusals as the scenario file's."""
    kwargs = {**scenario.model_kwargs(0), "scale": scale}
    try:
        SMEModel(**kwargs)
    except InputError as error:
        if error.key == "scale":
            raise InputError(scale_key, f"the model refuses the scale: {error.message}") from None
        raise InputFileError(
            scenario.file, scenario.file_key(error.key), f"the model refused it: {error.message}"
        ) from None


def paired_scenarios(
    policies: Iterable[str | Path],
    months: int,
    smallest_scale: float,
    baseline: str | Path = "baseline",
    scale_key: str = "scales",
) -> tuple[Scenario, list[Scenario]]:
    """The baseline and the policies (shipped names or paths), checked and loaded for paired runs:
    every one on the baseline's seed (replication r of a policy and of the baseline face one
    world) and `months` months; each built once at `smallest_scale` before anything runs.
    InputError names the argument (`policies`, `baseline`, `months`, or `scale_key` for a scale
    the model refuses)."""
    checks.whole("months", months, 1, MAX_MONTHS)
    if isinstance(policies, (str, Path)):
        policies = [policies]
    base = _load(baseline, "baseline")
    loaded: dict[str, Scenario] = {}
    for source in dict.fromkeys(policies):
        scenario = _load(source, "policies")
        if scenario.name == base.name:
            raise InputError("policies", f"{scenario.name!r} is the baseline; name the policies to check against it")
        if scenario.name in loaded:
            raise InputError("policies", f"two scenarios are named {scenario.name!r} ({loaded[scenario.name].file})")
        loaded[scenario.name] = scenario
    if not loaded:
        raise InputError("policies", "name at least one policy scenario")
    base = base.with_overrides(months=months)
    scenarios = [s.with_overrides(seed=base.seed, months=months) for s in loaded.values()]
    for scenario in (base, *scenarios):
        _check_model_accepts(scenario, smallest_scale, scale_key)
    return base, scenarios


def _plan(
    policies: Iterable[str | Path],
    scales: Iterable[float],
    seeds: int,
    months: int,
    reference_scale: float,
    baseline: str | Path,
) -> tuple[Scenario, list[Scenario], list[float]]:
    """Check every argument and load the scenarios (InputError naming the argument)."""
    checks.whole("seeds", seeds, 2, MAX_REPLICATIONS, " (paired seeds: intervals need at least two)")
    checks.whole("months", months, 1, MAX_MONTHS)
    reference_scale = check_scale("reference_scale", reference_scale)
    if isinstance(scales, (str, bytes)):
        raise InputError("scales", f"must be a list of numbers in (0, 1], got {scales!r}")
    every = sorted({check_scale("scales", s) for s in scales} | {reference_scale})
    if len(every) < 2:
        raise InputError("scales", f"must hold at least one scale besides the reference scale {reference_scale}")
    if len(every) > MAX_SCALES + 1:
        raise InputError(
            "scales", f"must hold at most {MAX_SCALES} scales besides the reference scale, got {len(every) - 1}"
        )
    base, scenarios = paired_scenarios(policies, months, every[0], baseline)
    return base, scenarios, every


def _pool_context():
    """Fresh interpreters for the workers: the parent's threads (numpy's) make fork unsafe."""
    return multiprocessing.get_context("spawn")


Task = tuple[Callable[[dict, int], object], dict, int]  # (a module-level function, SMEModel's kwargs, months)


def run_tasks(tasks: Sequence[Task], workers: int | None, progress: bool, name: str) -> list:
    """Each task's `function(kwargs, months)`, its results in the order of `tasks`, whatever the
    workers and the order in which they finish. `workers`: processes (None: os.cpu_count(); 0:
    in this process); progress on stderr as `name`. The functions must pickle (module-level)."""
    if workers is not None:
        checks.whole("workers", workers, 0, MAX_WORKERS, " (0: in this process)")
    results: dict[int, object] = {}
    size = (os.cpu_count() or 1) if workers is None else workers
    with SweepProgress(name, len(tasks), 0, enabled=progress) as bar:
        if size == 0:
            for i, (function, kwargs, months) in enumerate(tasks):
                results[i] = function(kwargs, months)
                bar.advance(1, 0)
        elif tasks:
            _run_in_pool(tasks, min(size, len(tasks)), results, lambda: bar.advance(1, 0))
    return [results[i] for i in range(len(tasks))]


def scale_check_runs(
    policies: Iterable[str | Path],
    scales: Iterable[float],
    seeds: int,
    months: int = 48,
    reference_scale: float = 1.0,
    workers: int | None = None,
    progress: bool = True,
    baseline: str | Path = "baseline",
) -> pd.DataFrame:
    """The runs of a scale check: every policy and the baseline at every scale (`scales` and
    `reference_scale`), replications 0 .. seeds-1 on the baseline's seed, `months` months each.

    One row per run, in a fixed order (scenario: the baseline first, then the policies; scale;
    replication): `scenario`, `scale`, `replication`, then every indicator at the horizon.
    `workers`: processes (None: os.cpu_count(); 0: in this process). Progress on stderr."""
    if workers is not None:
        checks.whole("workers", workers, 0, MAX_WORKERS, " (0: in this process)")
    base, scenarios, every = _plan(policies, scales, seeds, months, reference_scale, baseline)
    # the largest scales first: the longest runs start early, and the workers finish together
    keys = [(s, scale, r) for scale in reversed(every) for s in (base, *scenarios) for r in range(seeds)]
    tasks: list[Task] = [(run_indicators, {**s.model_kwargs(r), "scale": scale}, months) for s, scale, r in keys]
    results = {
        (s.name, scale, r): result
        for (s, scale, r), result in zip(keys, run_tasks(tasks, workers, progress, "scale check"), strict=True)
    }
    order = {name: i for i, name in enumerate(s.name for s in (base, *scenarios))}
    ordered = sorted(results, key=lambda key: (order[key[0]], key[1], key[2]))
    frame = pd.DataFrame([{"scenario": k[0], "scale": k[1], "replication": k[2], **results[k]} for k in ordered])
    return frame[[*RUN_KEYS, *INDICATORS]]


def _run_in_pool(tasks: Sequence[Task], workers: int, results: dict[int, object], done: Callable[[], None]) -> None:
    """The tasks on `workers` processes, one run in flight per worker: an error or Ctrl-C then
    waits for the runs under way only (a pool holding every task would run them all first)."""
    waiting = iter(enumerate(tasks))
    running: dict[Future, int] = {}
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=_pool_context())

    def submit() -> None:
        task = next(waiting, None)
        if task is not None:
            i, (function, kwargs, months) = task
            running[pool.submit(function, kwargs, months)] = i

    try:
        for _ in range(workers):
            submit()
        while running:
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                results[running.pop(future)] = future.result()
                done()
                submit()
    except BaseException:  # an error or Ctrl-C: start nothing more, let the workers go
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


def scale_check(
    policies: Iterable[str | Path],
    scales: Iterable[float],
    seeds: int,
    months: int = 48,
    reference_scale: float = 1.0,
    workers: int | None = None,
    progress: bool = True,
    indicators: Sequence[str] = DEFAULT_INDICATORS,
    baseline: str | Path = "baseline",
) -> pd.DataFrame:
    """Does each policy's paired effect at each small scale equal its effect at `reference_scale`?

    `policies`: shipped scenario names or paths; `scales`: the small scales, in (0, 1]; `seeds`:
    paired replications (>= 2); `months`: the horizon; `workers`: processes (None: one per core,
    0: in this process). Runs `scale_check_runs`, then `scale_statistics` (its table: one row per
    policy, indicator and scale, then the baseline's level rows). InputError names a bad argument
    (`scales`, `seeds`, `months`, `policies`, ...)."""
    indicators = list(indicators)
    unknown = [name for name in indicators if name not in INDICATORS]
    if unknown or not indicators:
        raise InputError("indicators", f"unknown {unknown or 'none given'}; allowed: {', '.join(INDICATORS)}")
    runs = scale_check_runs(policies, scales, seeds, months, reference_scale, workers, progress, baseline)
    base_name = runs["scenario"].iloc[0]  # the baseline comes first
    return scale_statistics(
        runs, check_scale("reference_scale", reference_scale), baseline=base_name, indicators=indicators
    )


# --- the table as text --------------------------------------------------------------------------


def _ratio_text(value: float) -> str:
    if value is None or not math.isfinite(value):
        return "n/a" if value is None or math.isnan(value) else ("inf" if value > 0 else "-inf")
    return f"{value:.2f}"


def format_scale_check(frame: pd.DataFrame) -> str:
    """The scale check's table as text: per policy (then the baseline's level), per indicator one
    line per scale: the effect (or level) with its interval, its ratio to the reference scale's
    with its interval (left out where the reference's interval contains 0: it means little), and
    the verdict."""
    blocks = []
    for (policy, measure), rows in frame.groupby(["policy", "measure"], sort=False):
        reference = rows["reference_scale"].iloc[0]
        seeds = "-".join(str(n) for n in sorted({int(rows["seeds"].min()), int(rows["seeds"].max())}))
        what = "paired effect (policy - baseline)" if measure == "effect" else "the baseline's level (must be unbiased)"
        ratio_of = f"ratio = mean at the scale / mean at scale {reference:g}"
        title = f"{policy}: {what}, {seeds} seeds; {ratio_of} (95% intervals)"
        lines = []
        for indicator, by_indicator in rows.groupby("indicator", sort=False):
            fmt = format_change if measure == "effect" else format_value
            show = partial(fmt, str(indicator))
            for i, row in enumerate(by_indicator.itertuples(index=False)):
                effect = format_with_interval(row.effect, row.effect_low, row.effect_high, show)
                ratio = format_with_interval(row.ratio, row.ratio_low, row.ratio_high, _ratio_text)
                if row.verdict == REFERENCE or row.verdict.startswith("small effect"):
                    ratio = ""  # 1 by definition; or a ratio to an effect indistinguishable from 0 (it means little)
                lines.append((str(indicator) if i == 0 else "", f"{row.scale:g}", effect, ratio, row.verdict))
        header = ("indicator", "scale", "effect" if measure == "effect" else "level", "ratio", "verdict")
        blocks.append(f"{title}\n{format_table(header, lines, right=(1,))}")
    note = (
        f"agrees: the ratio is within {TOLERANCE:.0%} of 1, or its interval contains 1. small effect: the "
        "reference's interval contains 0, so the ratio means little; it agrees when the two scales' "
        "intervals overlap."
    )
    return "\n\n".join([*blocks, note])
