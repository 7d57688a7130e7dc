"""The commands that run the model: `smesim run`, `scenarios`, `validate`, `explain` and `demo`."""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path

from experiments.analysis.goal_caps import (
    RELAXATIONS_FILE,
    format_goal_caps,
    goal_cap_runs,
    goal_caps,
    load_relaxations,
)
from experiments.analysis.lever_effects import format_lever_effects, lever_effects, lever_policies
from experiments.analysis.scale_check import MAX_SCALES, MAX_WORKERS, format_scale_check, scale_check
from experiments.analysis.validation import DEFAULT_SEED, MIN_MONTHS, format_report, stylised_facts
from experiments.cli.arguments import output_path
from experiments.errors import FlagError, from_flag
from experiments.files import RESULTS_DIR, write_csv_atomically
from experiments.inputs.scenario import MAX_MONTHS, MAX_REPLICATIONS, load_scenario, shipped_scenarios
from experiments.runs.demo import BASELINE, DEFAULT_REPLICATIONS, PLAN, format_comparison
from experiments.runs.runner import RunResult, format_summary, run_scenario
from simulation.errors import InputError

__all__ = ["add_commands", "list_scenarios", "run"]

VALIDATE_DESCRIPTION = (
    "Stylised facts of industrial dynamics and trade: the baseline beside the literature. With "
    "--scale-check: whether policies' paired effects (and the baseline's level) at small scales "
    "equal those at the reference scale. With --levers: each single-lever scenario's paired effects, "
    "fiscal cost, cost per job and exports per USD beside the published evidence."
)
CHECK_POLICIES, CHECK_SCALES, CHECK_SEEDS, CHECK_MONTHS = "ministry_plan", "0.05,0.1,0.3", 12, 48  # --scale-check
FACTS_MONTHS = 72
LEVERS_SCALE, LEVERS_SEEDS, LEVERS_MONTHS = 0.1, 6, 48  # --levers
EXPLAIN_SCENARIO, EXPLAIN_SCALE, EXPLAIN_SEEDS, EXPLAIN_MONTHS = "ministry_plan", 0.1, 4, 48
EXPLAIN_DESCRIPTION = (
    "What caps each goal: the scenario (default ministry_plan) beside the baseline, then with each "
    "constraint relaxed in turn (foreign demand, the exchange rate, sanctions, export costs, finance, "
    "capacity, readiness of projects; experiments/inputs/relaxations.toml) and with all of them, on "
    "paired seeds: how far each goal's indicator gets and which relaxation closes most of the gap."
)
SEEDS = "[0, 2**63 - 1]"  # root seeds
WORKERS_HELP = f"worker processes, in [0, {MAX_WORKERS}] (default: one per core; 0: in this process)"
FLAGS = {  # the flags of each part of validate, besides --months and --out
    "the stylised facts": ("seed", "scale"),
    "--scale-check": ("policies", "scales", "seeds", "reference_scale", "workers"),
    "--levers": ("policies", "scale", "seeds", "workers"),
}


def run(
    source: str | Path,
    *,
    seed: int | None = None,
    months: int | None = None,
    scale: float | None = None,
    replications: int | None = None,
    out: Path | None = None,
    command: Sequence[str] | None = None,
    progress: bool = True,
) -> RunResult:
    """What `smesim run` does: load and check the scenario and the overrides, run it, write
    results to `out` (default results/<scenario name>) and print the summary."""
    scenario = load_scenario(source).with_overrides(seed=seed, months=months, scale=scale, replications=replications)
    result = run_scenario(scenario, out if out is not None else RESULTS_DIR / scenario.name, command, progress)
    print(format_summary(result))
    return result


def list_scenarios() -> str:
    scenarios = [load_scenario(path) for path in shipped_scenarios().values()]
    width = max(len(s.name) for s in scenarios)
    return "\n".join(f"{s.name.ljust(width)}  {s.description}" for s in scenarios)


def add_commands(commands) -> None:
    run_parser = commands.add_parser(
        "run",
        help="run a scenario and write its results",
        description="Run a scenario's replications; write indicators.parquet and "
        "manifest.json; print the indicators and goals at the horizon.",
    )
    run_parser.add_argument("scenario", metavar="SCENARIO", help="a scenario file, or a shipped scenario's name")
    _add_run_settings(run_parser)
    run_parser.add_argument(
        "--replications", type=int, help=f"number of replications, in [1, {MAX_REPLICATIONS}], instead of the file's"
    )
    run_parser.add_argument(
        "--out", type=output_path, help="directory for the results (default: results/<scenario name>)"
    )
    run_parser.set_defaults(handler=lambda args, argv: _run(args, argv))

    scenarios = commands.add_parser(
        "scenarios", help="list the shipped scenarios", description="List the shipped scenarios."
    )
    scenarios.set_defaults(handler=lambda args, argv: print(list_scenarios()) or 0)

    validate = commands.add_parser(
        "validate", help="the stylised facts of the baseline beside the literature", description=VALIDATE_DESCRIPTION
    )
    validate.add_argument("--seed", type=int, metavar="N", help=f"root seed, in {SEEDS} (default {DEFAULT_SEED})")
    validate.add_argument(
        "--scale", type=float, metavar="S", help="share of the real population simulated, in (0, 1] (default 1)"
    )
    validate.add_argument(
        "--months",
        type=int,
        metavar="M",
        help=f"horizon: in [{MIN_MONTHS}, {MAX_MONTHS}] for the stylised facts (default {FACTS_MONTHS}); "
        f"with --scale-check or --levers, in [1, {MAX_MONTHS}] (default {CHECK_MONTHS})",
    )
    validate.add_argument(
        "--out",
        type=output_path,
        metavar="DIR",
        help="directory for stylised_facts.csv (or scale_check.csv, lever_effects.csv)",
    )
    check = validate.add_argument_group("scale check (--scale-check)")
    check.add_argument(
        "--scale-check",
        action="store_true",
        help="instead of the stylised facts: does each policy's paired effect at the small scales equal "
        "its effect at the reference scale? (docs/guide-scenarios.md, 'Scale check')",
    )
    check.add_argument(
        "--policies",
        metavar="NAMES",
        help=f"comma-separated shipped scenario names or paths (default {CHECK_POLICIES}; "
        "with --levers, every lever_* scenario)",
    )
    check.add_argument(
        "--scales", metavar="S,S,...", help=f"up to {MAX_SCALES} small scales, in (0, 1] (default {CHECK_SCALES})"
    )
    check.add_argument(
        "--reference-scale",
        type=float,
        metavar="S",
        help="the scale the others are compared with, in (0, 1] (default 1)",
    )
    check.add_argument(
        "--seeds",
        type=int,
        metavar="N",
        help=f"paired seeds per scale, in [2, {MAX_REPLICATIONS}] (default {CHECK_SEEDS}; --levers: {LEVERS_SEEDS})",
    )
    check.add_argument("--workers", type=int, metavar="N", help=WORKERS_HELP)
    levers = validate.add_argument_group("lever effects (--levers)")
    levers.add_argument(
        "--levers",
        action="store_true",
        help="instead of the stylised facts: each single-lever scenario against the baseline on paired seeds "
        f"(--scale default {LEVERS_SCALE:g}, --months {LEVERS_MONTHS}), beside the published evidence "
        "(docs/guide-scenarios.md, 'Lever effects')",
    )
    validate.set_defaults(handler=lambda args, argv: _validate(args))

    explain = commands.add_parser(
        "explain", help="what caps each goal: relax each constraint in turn", description=EXPLAIN_DESCRIPTION
    )
    explain.add_argument(
        "scenario",
        nargs="?",
        default=EXPLAIN_SCENARIO,
        metavar="SCENARIO",
        help=f"a scenario file, or a shipped scenario's name (default {EXPLAIN_SCENARIO})",
    )
    explain.add_argument(
        "--relaxations",
        type=Path,
        metavar="FILE",
        default=RELAXATIONS_FILE,
        help="the relaxations (default experiments/inputs/relaxations.toml)",
    )
    explain.add_argument(
        "--scale", type=float, metavar="S", default=EXPLAIN_SCALE, help=f"in (0, 1] (default {EXPLAIN_SCALE})"
    )
    explain.add_argument(
        "--seeds",
        type=int,
        metavar="N",
        default=EXPLAIN_SEEDS,
        help=f"paired seeds, in [2, {MAX_REPLICATIONS}] (default {EXPLAIN_SEEDS})",
    )
    explain.add_argument(
        "--months",
        type=int,
        metavar="M",
        default=EXPLAIN_MONTHS,
        help=f"horizon, in [1, {MAX_MONTHS}] (default {EXPLAIN_MONTHS})",
    )
    explain.add_argument("--workers", type=int, metavar="N", help=WORKERS_HELP)
    explain.add_argument("--out", type=output_path, metavar="DIR", help="directory for goal_caps.csv")
    explain.set_defaults(handler=lambda args, argv: _explain(args))

    demo = commands.add_parser(
        "demo",
        help="today's policies against the ministry's plan (make demo)",
        description="Run the shipped scenarios baseline and ministry_plan on the same seeds "
        "and print the goals side by side with the paired difference.",
    )
    demo.add_argument(
        "--out", type=output_path, default=RESULTS_DIR / "demo", help="directory for both runs (default results/demo)"
    )
    demo.add_argument(
        "--replications",
        type=int,
        default=DEFAULT_REPLICATIONS,
        help=f"paired replications, in [1, {MAX_REPLICATIONS}] (default {DEFAULT_REPLICATIONS})",
    )
    _add_run_settings(demo)
    demo.set_defaults(handler=lambda args, argv: _demo(args, argv))


def _add_run_settings(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, help=f"root seed, an integer in {SEEDS}, instead of the file's")
    parser.add_argument("--months", type=int, help=f"horizon in months, in [1, {MAX_MONTHS}], instead of the file's")
    parser.add_argument("--scale", type=float, help="share of the real population simulated, in (0, 1]")


def _run(args: argparse.Namespace, argv: list[str]) -> int:
    run(
        args.scenario,
        seed=args.seed,
        months=args.months,
        scale=args.scale,
        replications=args.replications,
        out=args.out,
        command=argv,
    )
    return 0


def _demo(args: argparse.Namespace, argv: list[str]) -> int:
    settings = {"seed": args.seed, "months": args.months, "scale": args.scale, "replications": args.replications}
    baseline, plan = (run(name, **settings, out=args.out / name, command=argv) for name in (BASELINE, PLAN))
    print(format_comparison(baseline, plan))
    return 0


def _write_table(frame, out: Path | None, name: str) -> None:
    """DIR/name from --out DIR, if given, and say where."""
    if out is not None:
        write_csv_atomically(frame, out / name, index=False)
        print(f"\nwritten to {out / name}")


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _validate(args: argparse.Namespace) -> int:
    if args.out is not None and args.out.exists() and not args.out.is_dir():
        raise FlagError("--out", f"must be a directory, got the file {args.out}")
    if args.scale_check and args.levers:
        raise FlagError("--levers", "cannot be combined with --scale-check: run them one after the other")
    part = "--scale-check" if args.scale_check else "--levers" if args.levers else "the stylised facts"
    for name in dict.fromkeys(flag for flags in FLAGS.values() for flag in flags):
        if getattr(args, name) is not None and name not in FLAGS[part]:
            users = [other for other, flags in FLAGS.items() if name in flags]
            where = " or ".join(users)
            message = f"needs {where}" if part == "the stylised facts" else f"is for {where}, not {part}"
            hint = " (use --scales)" if name == "scale" and part == "--scale-check" else ""
            raise FlagError(_flag(name), f"{message}{hint}")
    if args.levers:
        return _lever_effects(args)
    return _scale_check(args) if args.scale_check else _stylised_facts(args)


def _stylised_facts(args: argparse.Namespace) -> int:
    seed = DEFAULT_SEED if args.seed is None else args.seed
    scale = 1.0 if args.scale is None else args.scale
    months = FACTS_MONTHS if args.months is None else args.months
    started = time.perf_counter()
    try:
        frame = stylised_facts(seed=seed, scale=scale, months=months, progress=True)
    except InputError as error:  # the arguments, or the model's refusal (a scale that samples too few units)
        raise from_flag(InputError(f"--{error.key}", error.message)) from None
    print(
        f"Stylised facts: baseline, seed {seed}, scale {scale}, {months} months "
        f"({time.perf_counter() - started:.1f} s)\n"
    )
    print(format_report(frame))
    _write_table(frame, args.out, "stylised_facts.csv")
    return 0


def _names(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",")]
    if not all(names):
        raise FlagError("--policies", f"must be comma-separated scenario names or paths, got {text!r}")
    return names


def _scales(text: str) -> list[float]:
    scales = []
    for part in text.split(","):
        try:
            scales.append(float(part))
        except ValueError:
            raise FlagError("--scales", f"must be comma-separated numbers in (0, 1], got {text!r}") from None
    return scales


def _scale_check(args: argparse.Namespace) -> int:
    months = CHECK_MONTHS if args.months is None else args.months
    seeds = CHECK_SEEDS if args.seeds is None else args.seeds
    reference = 1.0 if args.reference_scale is None else args.reference_scale
    policies = _names(CHECK_POLICIES if args.policies is None else args.policies)
    scales = _scales(CHECK_SCALES if args.scales is None else args.scales)
    started = time.perf_counter()
    try:
        frame = scale_check(policies, scales, seeds, months, reference, args.workers, progress=True)
    except InputError as error:  # the arguments by name (scales, seeds, ...): the flags
        raise FlagError(_flag(error.key), error.message) from None
    print(
        f"Scale check: {', '.join(policies)} against baseline, scales {', '.join(f'{s:g}' for s in scales)} "
        f"against {reference:g}, {seeds} paired seeds, {months} months ({time.perf_counter() - started:.1f} s)\n"
    )
    print(format_scale_check(frame))
    _write_table(frame, args.out, "scale_check.csv")
    return 0


def _explain(args: argparse.Namespace) -> int:
    if args.out is not None and args.out.exists() and not args.out.is_dir():
        raise FlagError("--out", f"must be a directory, got the file {args.out}")
    relaxations = load_relaxations(args.relaxations)  # a bad file: InputFileError naming it
    started = time.perf_counter()
    try:
        runs = goal_cap_runs(args.scenario, relaxations, args.scale, args.seeds, args.months, args.workers)
    except InputError as error:  # the arguments by name (scale, seeds, months, policies: the scenario)
        raise FlagError("SCENARIO" if error.key == "policies" else _flag(error.key), error.message) from None
    frame = goal_caps(runs)
    scenario = runs.attrs["scenario"]
    print(
        f"What caps the goals: {scenario} and {len(relaxations)} relaxations, scale {args.scale:g}, "
        f"{args.seeds} paired seeds, {args.months} months ({time.perf_counter() - started:.1f} s)\n"
    )
    print(format_goal_caps(frame, scenario))
    _write_table(frame, args.out, "goal_caps.csv")
    return 0


def _lever_effects(args: argparse.Namespace) -> int:
    months = LEVERS_MONTHS if args.months is None else args.months
    seeds = LEVERS_SEEDS if args.seeds is None else args.seeds
    scale = LEVERS_SCALE if args.scale is None else args.scale
    policies = lever_policies() if args.policies is None else _names(args.policies)
    started = time.perf_counter()
    try:
        frame = lever_effects(policies, scale, seeds, months, args.workers, progress=True)
    except InputError as error:  # the arguments by name (scale, seeds, policies, ...): the flags
        raise FlagError(_flag(error.key), error.message) from None
    print(
        f"Lever effects: {len(policies)} scenarios against baseline, scale {scale:g}, {seeds} paired seeds, "
        f"{months} months ({time.perf_counter() - started:.1f} s)\n"
    )
    print(format_lever_effects(frame))
    _write_table(frame, args.out, "lever_effects.csv")
    return 0
