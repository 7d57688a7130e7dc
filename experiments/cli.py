"""`smesim`: the command line of the model.

    smesim run SCENARIO [--seed N] [--months M] [--scale S] [--replications R] [--out DIR]
    smesim validate [--seed N] [--scale S] [--months M] [--out DIR]
    smesim scenarios
    smesim sweep SPEC [...] / status DIR / merge OUT SHARD_DIRS... / sweeps   (experiments/sweep_cli.py)

SCENARIO is a TOML file or the name of a shipped scenario (`smesim scenarios` lists them).
Exit codes: 0 done; 2 bad input (one line on stderr: `smesim: error: <file>: <key>: <what
is allowed>`), nothing run or written; 1 an unexpected failure (with its traceback); 130
interrupted (Ctrl-C; no result file is left that looks complete).
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

from experiments import validation
from experiments.dashboard_cli import add_dashboard_command
from experiments.errors import ScenarioError
from experiments.formatting import format_range, format_table
from experiments.report_cli import add_report_commands
from experiments.runner import INDICATORS_FILE, MANIFEST_FILE, RunResult, run_scenario
from experiments.scenario import load_scenario, shipped_scenarios
from experiments.sweep_cli import add_sweep_commands
from simulation import CONTRACT

PROG = "smesim"
RESULTS_DIR = Path("results")


def run(source: str | Path, *, seed: int | None = None, months: int | None = None, scale: float | None = None,
        replications: int | None = None, out: Path | None = None, command: list[str] | None = None,
        progress: bool = True) -> RunResult:
    """What `smesim run` does: load and check the scenario and the overrides, run it, write
    results to `out` (default results/<scenario name>) and print the summary."""
    scenario = load_scenario(source).with_overrides(seed=seed, months=months, scale=scale, replications=replications)
    result = run_scenario(scenario, out if out is not None else RESULTS_DIR / scenario.name, command, progress)
    print(format_summary(result))
    return result


def format_summary(result: RunResult) -> str:
    """The contract indicators at the horizon and the goals: target, value, met or missed."""
    s = result.scenario
    many = s.replications > 1
    at_end = result.at_month(s.months)
    value_header = f"month {s.months}" + (f", mean of {s.replications} (min to max)" if many else "")
    indicators = format_table(("indicator", value_header),
                              [(name, format_range(name, at_end[name].tolist())) for name in CONTRACT], right=(1,))
    goal_rows = [(o.goal.label, o.goal.indicator, str(o.month), o.goal.target_text(),
                  format_range(o.goal.indicator, list(o.values)) if o.reached else "n/a", o.result_text())
                 for o in result.goals]
    goals = format_table(("goal", "indicator", "month", "target", "value", "result"), goal_rows, right=(2, 3, 4))
    replications = f"{s.replications} replication{'s' if many else ''}"
    return "\n".join([
        f"\n{s.name}: {s.description}",
        f"seed {s.seed}, {replications}, {s.months} months, scale {s.scale}; {result.manifest['wall_seconds']:.1f} s",
        "", indicators, "", goals, "",
        f"written: {result.out_dir / INDICATORS_FILE}, {result.out_dir / MANIFEST_FILE}",
    ])


def list_scenarios() -> str:
    scenarios = [load_scenario(path) for path in shipped_scenarios().values()]
    width = max(len(s.name) for s in scenarios)
    return "\n".join(f"{s.name.ljust(width)}  {s.description}" for s in scenarios)


# --- argument parsing ----------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Agent-based model of Iran's small and medium industry.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run_parser = commands.add_parser("run", help="run a scenario and write its results",
                                     description="Run a scenario's replications; write indicators.parquet and "
                                                 "manifest.json; print the indicators and goals at the horizon.")
    run_parser.add_argument("scenario", metavar="SCENARIO", help="a scenario file, or a shipped scenario's name")
    run_parser.add_argument("--seed", type=int, help="root seed (integer >= 0), instead of the file's")
    run_parser.add_argument("--months", type=int, help="horizon in months, instead of the file's")
    run_parser.add_argument("--scale", type=float, help="share of the real population simulated, in (0, 1]")
    run_parser.add_argument("--replications", type=int, help="number of replications, instead of the file's")
    run_parser.add_argument("--out", type=Path, help="directory for the results (default: results/<scenario name>)")
    run_parser.set_defaults(handler=_run_command)

    validate_parser = commands.add_parser("validate", help="the stylised facts of the baseline beside the literature",
                                          description=validation.DESCRIPTION)
    validation.add_arguments(validate_parser)
    validate_parser.set_defaults(handler=lambda args, argv: validation.run(validate_parser, args))

    scenarios_parser = commands.add_parser("scenarios", help="list the shipped scenarios",
                                           description="List the shipped scenarios.")
    scenarios_parser.set_defaults(handler=lambda args, argv: print(list_scenarios()) or 0)
    add_sweep_commands(commands)
    add_dashboard_command(commands)
    add_report_commands(commands)
    return parser


def _run_command(args: argparse.Namespace, argv: list[str]) -> int:
    run(args.scenario, seed=args.seed, months=args.months, scale=args.scale, replications=args.replications,
        out=args.out, command=[PROG, *argv])
    return 0


def exit_code(work: Callable[[], int]) -> int:
    """Run `work`, turning bad input into exit code 2 with one line on stderr, Ctrl-C into
    130 and any other failure into 1 with its traceback."""
    try:
        return work()
    except SystemExit as stop:  # argparse: --help (0) and usage errors (2)
        return stop.code if isinstance(stop.code, int) else 1
    except ScenarioError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted (a results directory without {MANIFEST_FILE} is incomplete)", file=sys.stderr)
        return 130
    except Exception:  # noqa: BLE001 - an unexpected failure: show everything
        traceback.print_exc()
        return 1


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()

    def work() -> int:
        args = parser.parse_args(argv)
        return args.handler(args, argv)

    return exit_code(work)


if __name__ == "__main__":
    sys.exit(main())
