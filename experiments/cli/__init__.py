"""`smesim`: the command line of the model, one module per command group.

    smesim run SCENARIO ... / scenarios / validate / demo     (experiments/cli/run.py)
    smesim sweep SPEC ... / status DIR / merge OUT DIRS / sweeps (experiments/cli/sweep.py)
    smesim compare DIR / sensitivity DIR                        (experiments/cli/analysis.py)
    smesim report DIR / replay DIR                              (experiments/cli/report.py)
    smesim dashboard [SCENARIO]                                 (experiments/cli/dashboard.py)

Exit codes: 0 done; 2 bad input (one line on stderr: `smesim: error: <file>: <key>: <what
is allowed>`, or `smesim: error: <--flag>: ...`), nothing run or written; 1 an unexpected
failure (with its traceback); 130 interrupted (Ctrl-C; no result file is left that looks
complete).
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Callable

from experiments.cli import analysis, dashboard, report, run, sweep
from experiments.errors import BadInput

__all__ = ["PROG", "exit_code", "main"]

PROG = "smesim"
GROUPS = (run, sweep, analysis, report, dashboard)


class OneLineParser(argparse.ArgumentParser):
    """A usage error is one line on stderr and exit code 2, like every other bad input. Flags
    are never abbreviated: `--out` must not quietly mean `--outcome`."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **{**kwargs, "allow_abbrev": False})

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def parser() -> argparse.ArgumentParser:
    top = OneLineParser(prog=PROG, description="Agent-based model of Iran's small and medium industry.")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=OneLineParser)
    for group in GROUPS:
        group.add_commands(commands)
    return top


def exit_code(work: Callable[[], int]) -> int:
    """Run `work`, turning bad input into exit code 2 with one line on stderr, Ctrl-C into
    130 and any other failure into 1 with its traceback."""
    try:
        return work()
    except SystemExit as stop:  # argparse: --help (0) and usage errors (2)
        return stop.code if isinstance(stop.code, int) else 1
    except BadInput as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted (a results directory without manifest.json is incomplete)", file=sys.stderr)
        return 130
    except Exception:  # noqa: BLE001 - an unexpected failure: show everything
        traceback.print_exc()
        return 1


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    top = parser()

    def work() -> int:
        args = top.parse_args(argv)
        return args.handler(args, [PROG, *argv])

    return exit_code(work)


if __name__ == "__main__":
    sys.exit(main())
