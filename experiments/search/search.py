"""The goal-first search (`smesim search SPEC`): the cheapest mix of levers whose probability of
meeting every goal of a goal set, over the uncertainty ensemble, is at least p.

Every evaluation is a run of the existing sweep machinery, so resume, checksums, locking and
determinism come from there:

1. Round 1 is a Latin hypercube of `search.initial` candidates over the levers (from the spec's
   seed). Each round is a generated sweep spec, DIR/round-<rr>.toml, run into DIR/round-<rr>/:
   its policies are the candidates (c0001, c0002, ...), its factors the ensemble, drawn from
   the spec's seed in every round, so that every candidate meets the same draws and seeds
   (common random numbers: differences between candidates are paired, not seed noise).
2. After each round, Gaussian-process surrogates of each goal's indicator and of the fiscal cost
   (experiments.search.surrogate) are fitted to every run so far, and `search.batch` new
   candidates are picked from a pool (random mixes, and mixes near the best so far), per goal
   set in turn, alternating between the cheapest mix predicted to meet the goals with
   probability >= p and the cheapest one an optimistic prediction allows (exploration); when no
   mix qualifies, the one with the highest predicted probability. Candidates closer than
   MIN_DISTANCE to one already evaluated are skipped. Rounds go on until `search.evaluations`
   candidates are evaluated.
3. Verification: per goal set, a short list (the cheapest candidates that met the goals in the
   search's runs with a share >= p within the cost cap, else those that came closest) runs with
   a baseline (the base with the fixed settings) on fresh draws and seeds, batch after batch
   (DIR/verify-r<rr>/batch-<kk>/, root seed verification.seed + k - 1), until each claim is
   decided: the Wilson interval of its probability (clustered by draw) lies above p (meets) or
   below it (fails); when the batches run out it is undecided. A candidate drops out of later
   batches once decided, or once a cheaper candidate of its goal sets is verified to meet them.
4. The recommendation per goal set: the verified candidate meeting its goals with the lowest
   verified mean cost within the cap; else a statement that none does, with the best
   probability reached and the goal that binds.

State lives in the stores: a round's file, once written, is what that round runs, so a search
killed at any point resumes by reading its rounds back and running what is missing (no run is
repeated); the surrogates are deterministic, so a new directory gives the same rounds.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.analysis.statistics import clustered_interval, clustered_wilson_interval
from experiments.errors import InputFileError
from experiments.files import RESULTS_DIR, atomic_path, read_json, write_json_atomically
from experiments.inputs.goals import Goal
from experiments.inputs.sweep_spec import SweepSpec, parse_sweep_spec
from experiments.runs.provenance import git_state, now
from experiments.search.outputs import SearchResult, write_outputs
from experiments.search.spec import SPEND, SearchLever, SearchSpec, sweep_text
from experiments.search.surrogate import KAPPA, Surrogate, encode_levers, goal_probability
from experiments.sweeps.executors import ExecutorOptions, open_executor
from experiments.sweeps.store import OK, Store, read_runs, read_series
from experiments.sweeps.sweep import run_sweep, spec_record

__all__ = [
    "BASELINE",
    "MANIFEST",
    "SEARCHES_DIR",
    "candidate_values",
    "evaluated_runs",
    "propose",
    "run_search",
    "summarise",
]

SEARCHES_DIR = RESULTS_DIR / "searches"
MANIFEST = "search.json"
MANIFEST_KIND = "smesim search"
BASELINE = "baseline"
SEARCH_STREAM = 0x5EA2C  # spawn key of the search's own draws (apart from the runs' seeds)
POOL = 1024  # random mixes the surrogates judge per proposal
LOCAL = 64  # mixes near each of the best candidates so far
LOCAL_SD = 0.08  # their spread on the unit cube
INCUMBENTS = 3
MIN_DISTANCE = 0.02  # on the unit cube, per sqrt(dimension): closer mixes are the same mix
SIGNIFICANT = 4  # digits of a numeric lever value (budgets of USD 12,340,000, not 12,338,917.3)


# --- candidates -----------------------------------------------------------------------------


def _rounded(value: float) -> float:
    return float(f"{value:.{SIGNIFICANT}g}")


def _from_unit(levers: Sequence[SearchLever], unit: np.ndarray) -> list[dict]:
    """Points of the unit cube as lever values (numbers rounded, integers and choices snapped)."""
    mixes = []
    for row in np.clip(unit, 0.0, 1.0):
        mix: dict = {}
        for lever, u in zip(levers, row, strict=True):
            if lever.is_choice:
                mix[lever.key] = lever.choices[min(int(u * len(lever.choices)), len(lever.choices) - 1)]
                continue
            assert lever.low is not None and lever.high is not None
            if lever.integer:
                mix[lever.key] = int(min(math.floor(lever.low + u * (lever.high - lever.low + 1)), lever.high))
            else:
                mix[lever.key] = min(max(_rounded(lever.low + u * (lever.high - lever.low)), lever.low), lever.high)
        mixes.append(mix)
    return mixes


def _rng(spec: SearchSpec, round_number: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(spec.seed, spawn_key=(SEARCH_STREAM, round_number)))


def _initial(spec: SearchSpec) -> list[dict]:
    from scipy.stats import qmc

    unit = qmc.LatinHypercube(d=len(spec.levers), rng=_rng(spec, 1)).random(spec.initial)
    return _unique(_from_unit(spec.levers, unit), [])


def _key(mix: dict) -> tuple:
    return tuple(sorted(mix.items()))


def _unique(mixes: list[dict], seen: list[dict]) -> list[dict]:
    known, kept = {_key(m) for m in seen}, []
    for mix in mixes:
        if _key(mix) not in known:
            known.add(_key(mix))
            kept.append(mix)
    return kept


def candidate_values(spec: SearchSpec, sweep: SweepSpec) -> dict[str, dict]:
    """The search levers' values of each candidate (policy) of a round's sweep spec."""
    return {
        name: {lever.key: policy[lever.lever][lever.setting] for lever in spec.levers}
        for name, policy in sweep.policies.items()
        if name != BASELINE
    }


# --- the runs -------------------------------------------------------------------------------


def _goal_values(directory: Path, runs: pd.DataFrame, spec: SearchSpec) -> pd.DataFrame:
    """Per run, each goal's indicator at the goal's month (the runs table holds the horizon)."""
    values = {}
    for name, goal in spec.goals.items():
        month = goal.month_for(spec.months)
        if month == spec.months:
            values[name] = runs[goal.indicator].astype(float)
        else:
            series = read_series(directory, columns=[goal.indicator], months=[month])
            values[name] = runs["run_id"].map(series.set_index("run_id")[goal.indicator]).astype(float)
    return pd.DataFrame(values, index=runs.index)


def evaluated_runs(spec: SearchSpec, directories: Sequence[Path]) -> pd.DataFrame:
    """The finished runs of some of the search's stores: policy, world ("<store>|<sample>"),
    replicate, the ensemble's values, the cost and each goal's value as `goal:<name>`; sorted,
    so that what is fitted to them does not depend on the order chunks were written in."""
    frames = []
    for directory in directories:
        runs = read_runs(directory)
        runs = runs[runs["status"] == OK]
        goals = _goal_values(directory, runs, spec).add_prefix("goal:")
        frame = runs[["policy", "sample", "replicate", *spec.ensemble, SPEND]].join(goals)
        frames.append(frame.assign(store=directory.name, world=directory.name + "|" + runs["sample"].astype(str)))
    if not frames:
        return pd.DataFrame()
    data = pd.concat(frames, ignore_index=True)
    return data.sort_values(["store", "policy", "sample", "replicate"], kind="stable").reset_index(drop=True)


def _met(spec: SearchSpec, data: pd.DataFrame, goals: Sequence[str]) -> pd.Series:
    """1.0 where a run meets every goal of `goals`, else 0.0 (NaN never meets)."""
    met = pd.Series(True, index=data.index)
    for name in goals:
        goal, value = spec.goals[name], data[f"goal:{name}"].to_numpy(float)
        ok = np.isfinite(value)
        if goal.at_least is not None:
            ok &= value >= goal.at_least
        if goal.at_most is not None:
            ok &= value <= goal.at_most
        met &= ok
    return met.astype(float)


def _margin(goal: Goal, mean: float) -> float:
    """How far a mean value lies on the goal's side of its target, relative to the target (< 0: short of it)."""
    sides = [(mean - b) / (abs(b) or 1.0) for b in [goal.at_least] if b is not None]
    sides += [(b - mean) / (abs(b) or 1.0) for b in [goal.at_most] if b is not None]
    return min(sides) if math.isfinite(mean) else -math.inf


def _claims(spec: SearchSpec, data: pd.DataFrame) -> pd.DataFrame:
    """Per candidate: runs, worlds, the mean cost with its interval, each goal's mean value and
    share met, and each goal set's probability with its Wilson interval clustered by world, and
    its margin (the smallest of its goals' relative margins of the mean over the target: which
    candidate came closest when none meets the goals)."""
    rows = []
    for name, group in data.groupby("policy", sort=True):
        n, worlds, cost, _, cost_low, cost_high = clustered_interval(group[SPEND], group["world"], spec.confidence)
        row = {
            "candidate": name,
            "runs": n,
            "worlds": worlds,
            "cost_usd": cost,
            "cost_low": cost_low,
            "cost_high": cost_high,
        }
        for goal in spec.goals:
            row[f"{goal}_mean"] = float(group[f"goal:{goal}"].mean())
            row[f"{goal}_p"] = float(_met(spec, group, [goal]).mean())
        for set_name, goals in spec.goal_sets.items():
            met = _met(spec, group, goals)
            _, low, high = clustered_wilson_interval(met, group["world"], spec.confidence)
            row |= {f"{set_name}_p": float(met.mean()), f"{set_name}_p_low": low, f"{set_name}_p_high": high}
            row[f"{set_name}_margin"] = min(_margin(spec.goals[g], row[f"{g}_mean"]) for g in goals)
        rows.append(row)
    return pd.DataFrame(rows)


def _within_cap(spec: SearchSpec, cost) -> np.ndarray:
    cost = np.asarray(cost, dtype=float)
    return np.ones(cost.shape, bool) if spec.cost_cap_usd is None else cost <= spec.cost_cap_usd


# --- proposals ------------------------------------------------------------------------------


def _unit_draws(spec: SearchSpec, data: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The ensemble's values on the unit cube (by their range over the draws) per run, and the
    distinct draws (one row each, in sample order)."""
    keys = list(spec.ensemble)
    if not keys:
        return np.empty((len(data), 0)), np.empty((0, 0))
    values = data[keys].to_numpy(float)
    low, high = values.min(axis=0), values.max(axis=0)
    unit = (values - low) / np.where(high > low, high - low, 1.0)
    first = data.drop_duplicates("sample").sort_values("sample").index
    return unit, unit[data.index.get_indexer(first)]


def _fit(spec: SearchSpec, data: pd.DataFrame, values: dict[str, dict]):
    """The surrogates (per goal, and the cost) fitted to each candidate's seeds' means at each
    draw, and the distinct draws on the unit cube."""
    unit, draws = _unit_draws(spec, data)
    # goals on the same indicator at the same month share one surrogate
    same = {name: (goal.indicator, goal.month_for(spec.months)) for name, goal in spec.goals.items()}
    first_of = {key: name for name, key in reversed(list(same.items()))}
    targets = [f"goal:{name}" for name in spec.goals if first_of[same[name]] == name] + [SPEND]
    by = data.assign(row=np.arange(len(data))).groupby(["policy", "world"], sort=True)
    means, first = by[targets].mean(), by["row"].first().to_numpy()
    within = by[targets].var(ddof=1).mean()  # pooled variance between seeds (NaN with one seed)
    policies = means.index.get_level_values("policy")
    x = np.hstack([encode_levers(spec.levers, [values[p] for p in policies]), unit[first]])
    fitted = {}
    for column in targets:
        y = means[column].to_numpy(float)
        known = np.isfinite(y)
        variance = float(within[column]) if math.isfinite(within[column]) else 0.0
        fitted[column] = Surrogate.fit(x[known], y[known], policies.to_numpy()[known], variance, spec.seeds)
    surrogates = {name: fitted[f"goal:{first_of[same[name]]}"] for name in spec.goals} | {SPEND: fitted[SPEND]}
    return surrogates, draws


def _incumbents(spec: SearchSpec, claims: pd.DataFrame) -> list[str]:
    """The best candidates so far, per goal set: the cheapest meeting p within the cap, then the
    most likely to meet the goals."""
    best: list[str] = []
    for set_name in spec.goal_sets:
        order = claims.assign(
            ok=(claims[f"{set_name}_p"] >= spec.probability) & _within_cap(spec, claims["cost_usd"]),
            cheap=np.where(_within_cap(spec, claims["cost_usd"]), claims["cost_usd"], np.inf),
        ).sort_values(
            ["ok", f"{set_name}_p", f"{set_name}_margin", "cheap", "candidate"],
            ascending=[False, False, False, True, True],
        )
        feasible = order[order["ok"]].sort_values(["cost_usd", "candidate"])
        best += list((feasible if len(feasible) else order)["candidate"][:INCUMBENTS])
    return list(dict.fromkeys(best))


def propose(spec: SearchSpec, data: pd.DataFrame, values: dict[str, dict], count: int, round_number: int):
    """`count` new mixes (module doc, step 2) and the surrogates' accuracy, in words."""
    surrogates, draws = _fit(spec, data, values)
    claims = _claims(spec, data)
    rng = _rng(spec, round_number)
    unit = [rng.random((POOL, len(spec.levers)))]
    for name in _incumbents(spec, claims):
        centre = _to_unit(spec.levers, values[name])
        unit.append(centre + rng.normal(0.0, LOCAL_SD, (LOCAL, len(spec.levers))))
    pool = _unique(_from_unit(spec.levers, np.vstack(unit)), list(values.values()))
    x = encode_levers(spec.levers, pool)
    seen = encode_levers(spec.levers, list(values.values()))
    cost = _mean_over_draws(surrogates[SPEND], x, draws)
    admissible = _within_cap(spec, cost)
    predicted = {
        set_name: (
            goal_probability(surrogates, [spec.goals[g] for g in goals], x, draws),
            goal_probability(surrogates, [spec.goals[g] for g in goals], x, draws, kappa=KAPPA),
        )
        for set_name, goals in spec.goal_sets.items()
    }
    means = {name: _mean_over_draws(surrogates[name], x, draws) for name in spec.goals}
    margins: dict[str, np.ndarray] = {
        set_name: np.min(np.array([[_margin(spec.goals[g], m) for m in means[g]] for g in goals], float), axis=0)
        for set_name, goals in spec.goal_sets.items()
    }
    radius = MIN_DISTANCE * math.sqrt(x.shape[1])
    chosen: list[int] = []
    for i in range(count):
        set_name = list(spec.goal_sets)[i % len(spec.goal_sets)]
        probability = predicted[set_name][(i // len(spec.goal_sets)) % 2]  # exploit, then explore
        near = np.vstack([seen, x[chosen]]) if chosen else seen
        far = np.min(np.linalg.norm(x[:, None, :] - near[None, :, :], axis=2), axis=1) >= radius
        free = admissible & far
        if not free.any():
            break
        feasible = free & (probability >= spec.probability)
        if feasible.any():
            pick = int(np.flatnonzero(feasible)[np.argmin(cost[feasible])])
        else:  # the most likely; of equals (all unlikely), the closest to the targets, then the cheaper
            order = np.lexsort((cost, -margins[set_name], -np.round(probability, 6)))
            pick = int(next(j for j in order if free[j]))
        chosen.append(pick)
    accuracy = ", ".join(f"{name} {s.cv_r2:.2f} (mixes {s.cv_r2_mixes:.2f})" for name, s in surrogates.items())
    note = f"proposed by surrogates fitted on {len(data)} runs of {len(values)} candidates; CV R^2: {accuracy}"
    return [pool[j] for j in chosen], note


def _to_unit(levers: Sequence[SearchLever], mix: dict) -> np.ndarray:
    point = []
    for lever in levers:
        if lever.is_choice:
            point.append((lever.choices.index(mix[lever.key]) + 0.5) / len(lever.choices))
        else:
            assert lever.low is not None and lever.high is not None
            point.append((float(mix[lever.key]) - lever.low) / (lever.high - lever.low))
    return np.array(point)


def _mean_over_draws(surrogate: Surrogate, x: np.ndarray, draws: np.ndarray) -> np.ndarray:
    d = max(len(draws), 1)
    grid = np.hstack([np.repeat(x, d, axis=0), np.tile(draws, (len(x), 1)) if len(draws) else np.empty((len(x), 0))])
    return surrogate.predict(grid)[0].reshape(len(x), d).mean(axis=1)


# --- the directory --------------------------------------------------------------------------


def _check_directory(spec: SearchSpec, out: Path) -> dict | None:
    path = out / MANIFEST
    if not path.exists():
        if out.exists() and any(out.iterdir()):
            raise InputFileError(str(out), None, f"is not empty and holds no {MANIFEST}: use an empty --out")
        return None
    manifest = read_json(path, "the search's manifest")
    if not isinstance(manifest, dict) or manifest.get("kind") != MANIFEST_KIND:
        raise InputFileError(str(path), "kind", f"not a search's manifest (kind {MANIFEST_KIND!r} expected)")
    if manifest.get("fingerprint") != spec.fingerprint:
        raise InputFileError(
            str(out),
            None,
            f"holds a search of a different spec (fingerprint {str(manifest.get('fingerprint'))[:12]}; "
            f"{spec.file} is now {spec.fingerprint[:12]}; only the budgets search.evaluations and "
            "verification.batches may change): use another --out",
        )
    return manifest


def _sweep(spec: SearchSpec, path: Path, text: str, name: str) -> SweepSpec:
    """A round's or batch's sweep spec: the file's if it exists (what that step runs), else `text`
    written there first."""
    if path.exists():
        text = path.read_text(encoding="utf-8")
    else:
        with atomic_path(path) as tmp:
            tmp.write_text(text, encoding="utf-8")
    return parse_sweep_spec(text, str(path), name)


class _Runner:
    """Runs sweeps of the search on one executor, opened at the first sweep with runs to do."""

    def __init__(self, options: ExecutorOptions | None, executor, progress: bool, command: list[str]):
        self.options, self.executor, self.progress, self.command = options, executor, progress, command
        self.stack = ExitStack()
        self.runs = 0

    def run(self, sweep: SweepSpec, directory: Path) -> None:
        executor = self.executor
        if executor is None and not _finished(sweep, directory):
            executor = self.executor = self.stack.enter_context(open_executor(self.options or ExecutorOptions()))
        report = run_sweep(
            sweep, directory, executor=executor, progress=self.progress, command=self.command, options=self.options
        )
        self.runs += report.run_now

    def __enter__(self) -> _Runner:
        return self

    def __exit__(self, *exc) -> None:
        self.stack.close()


def _finished(sweep: SweepSpec, directory: Path) -> bool:
    if not (directory / "parts.jsonl").exists():
        return False
    from experiments.sweeps.design import RunPlan

    done = Store(directory).check().run_ids()
    return all(run.run_id in done for run in RunPlan(sweep).runs)


def _say(progress: bool, text: str) -> None:
    if progress:
        print(text, file=sys.stderr, flush=True)


# --- the search -----------------------------------------------------------------------------


def _rounds(spec: SearchSpec, out: Path, runner: _Runner, progress: bool):
    """Run (or read back) the search rounds; returns their directories and every candidate's values."""
    values: dict[str, dict] = {}
    directories: list[Path] = []
    rounds: list[dict] = []
    number, mixes, note = 1, _initial(spec), "a Latin hypercube over the levers"
    while mixes:
        names = [f"c{len(values) + i + 1:04d}" for i in range(len(mixes))]
        header = f"Generated by smesim search from {spec.file}: round {number} of {spec.name}.\nCandidates {note}."
        text = sweep_text(
            spec,
            f"{spec.name}: search round {number} ({len(mixes)} candidates)",
            spec.seed,
            spec.draws,
            {name: spec.policy_levers(mix) for name, mix in zip(names, mixes, strict=True)},
            header,
        )
        tag = f"round-{number:02d}"
        sweep = _sweep(spec, out / f"{tag}.toml", text, f"{spec.name}-{tag}")
        _say(progress, f"{spec.name}: {tag}: {len(sweep.policies)} candidates ({note})")
        runner.run(sweep, out / tag)
        directories.append(out / tag)
        values |= candidate_values(spec, sweep)
        rounds.append(
            {"round": number, "spec_file": f"{tag}.toml", "directory": tag, "candidates": list(sweep.policies)}
        )
        left = spec.evaluations - len(values)
        if left <= 0:
            break
        number += 1
        existing = out / f"round-{number:02d}.toml"
        if existing.exists():  # proposed before (a resumed search): what the file says is what runs
            read = parse_sweep_spec(existing.read_text(encoding="utf-8"), str(existing), existing.stem)
            mixes, note = list(candidate_values(spec, read).values()), f"read back from {existing.name}"
            continue
        data = evaluated_runs(spec, directories)
        mixes, note = propose(spec, data, values, min(spec.batch, left), number)
    return directories, values, rounds


def _shortlists(spec: SearchSpec, claims: pd.DataFrame) -> dict[str, list[str]]:
    lists = {}
    for set_name in spec.goal_sets:
        within = claims[_within_cap(spec, claims["cost_usd"])]
        pool = within if len(within) else claims
        feasible = pool[pool[f"{set_name}_p"] >= spec.probability].sort_values(["cost_usd", "candidate"])
        closest = pool.sort_values(
            [f"{set_name}_p", f"{set_name}_margin", "cost_usd", "candidate"], ascending=[False, False, True, True]
        )
        names = list(dict.fromkeys([*feasible["candidate"], *closest["candidate"]]))
        lists[set_name] = names[: spec.shortlist]
    return lists


def _verdict(spec: SearchSpec, low: float, high: float) -> str:
    if low >= spec.probability:
        return "meets"
    if high < spec.probability:
        return "fails"
    return "undecided"


def _verify(
    spec: SearchSpec, out: Path, values: dict[str, dict], lists: dict[str, list[str]], tag: str, runner, progress
):
    """The verification batches (module doc, step 3); their directories."""
    listed = list(dict.fromkeys(name for names in lists.values() for name in names))
    directories: list[Path] = []
    for k in range(1, spec.verify_batches + 1):
        active = _still_open(spec, lists, directories, listed)
        if not active:
            break
        policies = {name: spec.policy_levers(values[name]) for name in active}
        if all(levers != spec.policy_levers() for levers in policies.values()):
            policies = {BASELINE: spec.policy_levers()} | policies
        header = f"Generated by smesim search from {spec.file}: verification batch {k} of {spec.name} (fresh seeds)."
        text = sweep_text(
            spec,
            f"{spec.name}: verification batch {k} ({len(active)} candidates)",
            spec.verify_seed + k - 1,
            spec.verify_draws,
            policies,
            header,
        )
        name = f"batch-{k:02d}"
        sweep = _sweep(spec, out / tag / f"{name}.toml", text, f"{spec.name}-{tag}-{name}")
        _say(progress, f"{spec.name}: {tag}/{name}: {', '.join(active)} on fresh seeds (root seed {sweep.seed})")
        runner.run(sweep, out / tag / name)
        directories.append(out / tag / name)
    return directories


def _still_open(spec: SearchSpec, lists: dict[str, list[str]], directories: list[Path], order: list[str]) -> list[str]:
    """The short-listed candidates whose claim is still undecided for a goal set where no cheaper
    candidate (in short-list order) has been verified to meet the goals."""
    if not directories:
        return list(order)
    claims = _claims(spec, evaluated_runs(spec, directories)).set_index("candidate")
    active: list[str] = []
    for set_name, names in lists.items():
        for name in names:
            if name not in claims.index:
                continue
            row = claims.loc[name]
            verdict = _verdict(spec, row[f"{set_name}_p_low"], row[f"{set_name}_p_high"])
            if verdict == "meets" and _within_cap(spec, [row["cost_usd"]])[0]:
                break  # the cheapest verified: the dearer ones need no verdict
            if verdict == "undecided":
                active.append(name)
    return [name for name in order if name in active]


def run_search(
    spec: SearchSpec,
    out: Path | None = None,
    *,
    options: ExecutorOptions | None = None,
    executor=None,
    progress: bool = True,
    command: list[str] | None = None,
) -> SearchResult:
    """Run the search (module doc) into `out` (default results/searches/<spec name>/), resuming
    what is there; write its tables, figure, recommended scenarios and manifest."""

    out = Path(out) if out is not None else SEARCHES_DIR / spec.name
    command = list(sys.argv) if command is None else list(command)
    clock = time.perf_counter()
    manifest = _check_directory(spec, out)
    out.mkdir(parents=True, exist_ok=True)
    with Store(out).lock(command), _Runner(options, executor, progress, command) as runner:
        manifest = (manifest or _new_manifest(spec)) | _spec_record(spec)  # the budgets may have changed
        session = {
            "started": now(),
            "command": command,
            "git_commit": git_state()["commit"],
            "spec_sha256": spec.sha256,
        }
        manifest["sessions"].append(session)
        write_json_atomically(manifest, out / MANIFEST)
        directories, values, rounds = _rounds(spec, out, runner, progress)
        search = evaluated_runs(spec, directories)
        claims = _claims(spec, search)
        lists = _shortlists(spec, claims)
        tag = f"verify-r{len(rounds):02d}"
        checks = _verify(spec, out, values, lists, tag, runner, progress)
        verified = evaluated_runs(spec, checks)
        result = summarise(spec, out, search, verified, values, lists, rounds)
        result.runs_now, result.seconds = runner.runs, time.perf_counter() - clock
        write_outputs(result, search)
        session.update(finished=now(), runs_run=runner.runs, seconds=round(result.seconds, 1))
        manifest.update(
            rounds=rounds,
            verification={"directory": tag, "batches": [d.name for d in checks], "shortlists": lists},
            recommendations=result.recommendations,
        )
        write_json_atomically(manifest, out / MANIFEST)
    return result


def _new_manifest(spec: SearchSpec) -> dict:
    return {"kind": MANIFEST_KIND, "git": git_state(), "started": now(), "sessions": []}


def _spec_record(spec: SearchSpec) -> dict:
    """The spec as the latest session read it: its text replays the search."""
    return {
        **spec_record(spec),
        "budgets": {"evaluations": spec.evaluations, "verification_batches": spec.verify_batches},
    }


# --- what the search found ------------------------------------------------------------------


def _frontier(costs: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """Whether each point is on the frontier: no other is at least as cheap and as likely, and
    better in one."""
    on = np.ones(len(costs), bool)
    for i in range(len(costs)):
        better = (costs <= costs[i]) & (probabilities >= probabilities[i])
        better &= (costs < costs[i]) | (probabilities > probabilities[i])
        on[i] = not better.any()
    return on


def _paired(spec: SearchSpec, verified: pd.DataFrame, name: str, column: str) -> tuple[float, float, float]:
    """The candidate's mean paired difference from the baseline on the same runs, and its interval."""
    key = ["store", "sample", "replicate"]
    base = verified[verified["policy"] == BASELINE].set_index(key)[column]
    other = verified[verified["policy"] == name].set_index(key)
    common = other.index.intersection(base.index)
    if not len(common):
        return math.nan, math.nan, math.nan
    difference = other.loc[common, column] - base.loc[common]
    _, _, mean, _, low, high = clustered_interval(difference, other.loc[common, "world"], spec.confidence)
    return mean, low, high


def summarise(
    spec: SearchSpec,
    out: Path,
    search: pd.DataFrame,
    verified: pd.DataFrame,
    values: dict[str, dict],
    lists: dict[str, list[str]],
    rounds: list[dict],
) -> SearchResult:
    """The frontier table, the verification table and the recommendation per goal set."""
    claims = _claims(spec, search)
    round_of = {name: r["round"] for r in rounds for name in r["candidates"]}
    levers = pd.DataFrame([values[name] for name in claims["candidate"]], index=claims.index)
    candidates = pd.concat([claims[["candidate"]], claims["candidate"].map(round_of).rename("round"), levers], axis=1)
    candidates = pd.concat([candidates, claims.drop(columns="candidate")], axis=1)
    for set_name in spec.goal_sets:
        within = _within_cap(spec, candidates["cost_usd"])
        on = np.zeros(len(candidates), bool)
        on[within] = _frontier(
            candidates["cost_usd"][within].to_numpy(), candidates[f"{set_name}_p"][within].to_numpy()
        )
        candidates[f"{set_name}_frontier"] = on
    surrogates, _ = _fit(spec, search, values)
    accuracy = pd.DataFrame(
        [
            {"indicator": name, "points": s.points, "cv_r2": s.cv_r2, "cv_r2_mixes": s.cv_r2_mixes}
            for name, s in surrogates.items()
        ]
    )
    verified = _with_baseline(spec, verified, values, lists)
    checked = _claims(spec, verified).set_index("candidate") if len(verified) else pd.DataFrame()
    rows, recommendations = [], {}
    for set_name, names in lists.items():
        for name in names:
            rows.append(_verification_row(spec, set_name, name, values[name], checked, verified))
        recommendations[set_name] = _recommend(spec, set_name, [r for r in rows if r["goal_set"] == set_name])
    return SearchResult(spec, out, candidates, pd.DataFrame(rows), accuracy, recommendations)


def _with_baseline(spec: SearchSpec, verified: pd.DataFrame, values: dict, lists: dict) -> pd.DataFrame:
    """A batch whose short list holds the baseline's own mix runs it once, under the candidate's
    name (a sweep refuses twin policies): its runs are the baseline's runs too."""
    listed = [name for names in lists.values() for name in names]
    twin = next((n for n in listed if spec.policy_levers(values[n]) == spec.policy_levers()), None)
    if twin is None or not len(verified):
        return verified
    has_baseline = set(verified.loc[verified["policy"] == BASELINE, "store"])
    copies = verified[(verified["policy"] == twin) & ~verified["store"].isin(has_baseline)]
    return pd.concat([verified, copies.assign(policy=BASELINE)], ignore_index=True)


def _verification_row(spec, set_name: str, name: str, mix: dict, checked: pd.DataFrame, verified) -> dict:
    row: dict = {"goal_set": set_name, "candidate": name, **mix}
    if name not in checked.index:
        return row | {"runs": 0, "verdict": "not verified"}
    claim = checked.loc[name]
    low, high = claim[f"{set_name}_p_low"], claim[f"{set_name}_p_high"]
    row |= {
        "runs": int(claim["runs"]),
        "worlds": int(claim["worlds"]),
        "probability": claim[f"{set_name}_p"],
        "p_low": low,
        "p_high": high,
        "verdict": _verdict(spec, low, high),
        "margin": claim[f"{set_name}_margin"],
        "cost_usd": claim["cost_usd"],
        "cost_low": claim["cost_low"],
        "cost_high": claim["cost_high"],
    }
    diff = _paired(spec, verified, name, SPEND)
    row |= {"cost_vs_baseline": diff[0], "cost_vs_baseline_low": diff[1], "cost_vs_baseline_high": diff[2]}
    for goal in spec.goal_sets[set_name]:
        diff = _paired(spec, verified, name, f"goal:{goal}")
        row |= {
            f"{goal}_mean": claim[f"{goal}_mean"],
            f"{goal}_p": claim[f"{goal}_p"],
            f"{goal}_vs_baseline": diff[0],
            f"{goal}_vs_baseline_low": diff[1],
            f"{goal}_vs_baseline_high": diff[2],
        }
    return row


def _recommend(spec: SearchSpec, set_name: str, rows: list[dict]) -> dict:
    meets = [r for r in rows if r.get("verdict") == "meets" and _within_cap(spec, [r["cost_usd"]])[0]]
    if meets:
        best = min(meets, key=lambda r: (r["cost_usd"], r["candidate"]))
        return {"found": True, **_plain(best)}
    tried = [r for r in rows if r.get("runs")]
    if not tried:
        return {"found": False, "reason": "no short-listed candidate was verified (verification.batches)"}
    best = max(tried, key=lambda r: (r["probability"], r["margin"], -r["cost_usd"]))
    goals = spec.goal_sets[set_name]
    binding = min(goals, key=lambda g: (best[f"{g}_p"], _margin(spec.goals[g], best[f"{g}_mean"])))
    undecided = [r["candidate"] for r in rows if r.get("verdict") == "undecided"]
    return {"found": False, "binding_goal": binding, "undecided": undecided, **_plain(best)}


def _plain(row: dict) -> dict:
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()}
