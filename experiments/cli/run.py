"""The commands that run the model: `smesim run`, `scenarios`, `validate` and `demo`."""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path

from experiments.analysis.validation import DEFAULT_SEED, MIN_MONTHS, format_report, stylised_facts
from experiments.errors import FlagError, from_flag
from experiments.files import RESULTS_DIR, write_csv_atomically
from experiments.inputs.scenario import load_scenario, shipped_scenarios
from experiments.runs.demo import BASELINE, DEFAULT_REPLICATIONS, PLAN, format_comparison
from experiments.runs.runner import RunResult, format_summary, run_scenario
from simulation.errors import InputError

__all__ = ["add_commands", "list_scenarios", "run"]

VALIDATE_DESCRIPTION = "Stylised facts of industrial dynamics and trade: the baseline beside the literature."


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
    run_parser.add_argument("--replications", type=int, help="number of replications, instead of the file's")
    run_parser.add_argument("--out", type=Path, help="directory for the results (default: results/<scenario name>)")
    run_parser.set_defaults(handler=lambda args, argv: _run(args, argv))

    scenarios = commands.add_parser(
        "scenarios", help="list the shipped scenarios", description="List the shipped scenarios."
    )
    scenarios.set_defaults(handler=lambda args, argv: print(list_scenarios()) or 0)

    validate = commands.add_parser(
        "validate", help="the stylised facts of the baseline beside the literature", description=VALIDATE_DESCRIPTION
    )
    validate.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"root seed (default {DEFAULT_SEED})")
    validate.add_argument("--scale", type=float, default=1.0, help="share of the real population simulated (default 1)")
    validate.add_argument("--months", type=int, default=72, help=f"horizon, >= {MIN_MONTHS} (default 72)")
    validate.add_argument("--out", type=Path, help="directory for stylised_facts.csv")
    validate.set_defaults(handler=lambda args, argv: _validate(args))

    demo = commands.add_parser(
        "demo",
        help="today's policies against the ministry's plan (make demo)",
        description="Run the shipped scenarios baseline and ministry_plan on the same seeds "
        "and print the goals side by side with the paired difference.",
    )
    demo.add_argument(
        "--out", type=Path, default=RESULTS_DIR / "demo", help="directory for both runs (default results/demo)"
    )
    demo.add_argument(
        "--replications",
        type=int,
        default=DEFAULT_REPLICATIONS,
        help=f"paired replications (default {DEFAULT_REPLICATIONS})",
    )
    _add_run_settings(demo)
    demo.set_defaults(handler=lambda args, argv: _demo(args, argv))


def _add_run_settings(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, help="root seed (integer >= 0), instead of the file's")
    parser.add_argument("--months", type=int, help="horizon in months, instead of the file's")
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


def _validate(args: argparse.Namespace) -> int:
    if args.out is not None and args.out.exists() and not args.out.is_dir():
        raise FlagError("--out", f"must be a directory, got the file {args.out}")
    started = time.perf_counter()
    try:
        frame = stylised_facts(seed=args.seed, scale=args.scale, months=args.months, progress=True)
    except InputError as error:  # the arguments, or the model's refusal (a scale that samples too few units)
        raise from_flag(InputError(f"--{error.key}", error.message)) from None
    print(
        f"Stylised facts: baseline, seed {args.seed}, scale {args.scale}, {args.months} months "
        f"({time.perf_counter() - started:.1f} s)\n"
    )
    print(format_report(frame))
    if args.out is not None:
        path = args.out / "stylised_facts.csv"
        write_csv_atomically(frame, path, index=False)
        print(f"\nwritten to {path}")
    return 0
