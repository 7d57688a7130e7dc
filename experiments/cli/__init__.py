"""`smesim`: the command line of the model, one module per command group.

    smesim run SCENARIO ... / scenarios / validate / demo     (experiments/cli/run.py)
    smesim sweep SPEC ... / status DIR / merge OUT DIRS / sweeps (experiments/cli/sweep.py)
    smesim search SPEC ... / searches / discover DIR            (experiments/cli/search.py)
    smesim compare DIR / sensitivity DIR                        (experiments/cli/analysis.py)
    smesim report DIR / replay DIR                              (experiments/cli/report.py)
    smesim dashboard [SCENARIO]                                 (experiments/cli/dashboard.py)

Exit codes: 0 done; 2 bad input (one line on stderr: `smesim: error: <file>: <key>: <what
is allowed>`, or `smesim: error: <--flag>: ...`), nothing run or written, or surroundings that
refuse the work (no space left, a read-only file system, a path that is not a directory, no
permission: one line naming the file and the cause); 1 an unexpected failure (with its
traceback), or a sweep whose cluster lost its workers (one line); 130 interrupted (Ctrl-C,
also while starting; no result file is left that looks complete).
"""

from __future__ import annotations

import argparse
import errno
import os
import sys
import traceback
from collections.abc import Callable

__all__ = ["PROG", "exit_code", "main", "os_error_text"]

PROG = "smesim"


class OneLineParser(argparse.ArgumentParser):
    """A usage error is one line on stderr and exit code 2, like every other bad input. Flags
    are never abbreviated: `--out` must not quietly mean `--outcome`."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **{**kwargs, "allow_abbrev": False})

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def parser() -> argparse.ArgumentParser:
    # imported here, inside exit_code: a Ctrl-C while the libraries load is an interrupt, not a traceback
    from experiments.cli import analysis, dashboard, report, run, search, sweep

    top = OneLineParser(prog=PROG, description="Agent-based model of Iran's small and medium industry.")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=OneLineParser)
    for group in (run, sweep, search, analysis, report, dashboard):
        group.add_commands(commands)
    return top


def exit_code(work: Callable[[], int]) -> int:
    """Run `work`, turning bad input into exit code 2 with one line on stderr, Ctrl-C into
    130 and any other failure into 1 with its traceback."""
    try:
        return _classified(work)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted (a results directory without manifest.json is incomplete)", file=sys.stderr)
        return 130


def _classified(work: Callable[[], int]) -> int:
    from experiments.errors import BadInput  # loads the model: here, so that a Ctrl-C meanwhile is an interrupt

    try:
        return work()
    except SystemExit as stop:  # argparse: --help (0) and usage errors (2)
        return stop.code if isinstance(stop.code, int) else 1
    except BadInput as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # the surroundings: no space, read-only, not a directory, no permission
        print(f"{PROG}: error: {os_error_text(error)}", file=sys.stderr)
        return 2
    except Exception:  # noqa: BLE001 - an unexpected failure: show everything
        traceback.print_exc()
        return 1


ADVICE = {errno.ENOSPC: "free some space, or write elsewhere with --out", errno.EROFS: "write elsewhere with --out"}


def os_error_text(error: OSError) -> str:
    """ "<file>: <cause>[: <advice>]" of an operating-system error (pyarrow's name no file: their
    first line says what failed)."""
    cause = os.strerror(error.errno) if error.errno else (str(error).splitlines() or [type(error).__name__])[0]
    where = [str(name) for name in (error.filename, error.filename2) if name]
    return ": ".join([*where, cause, *filter(None, [ADVICE.get(error.errno or 0)])])


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)

    def work() -> int:
        args = parser().parse_args(argv)
        return args.handler(args, [PROG, *argv])

    return exit_code(work)


if __name__ == "__main__":
    sys.exit(main())
