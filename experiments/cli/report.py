"""The report and replay commands of `smesim`:

    smesim report DIR [--lang en|fa] [--digits latin|persian] [--out FILE]
    smesim replay DIR [--runs N|all]

DIR is a run directory (`smesim run`), a directory holding several run directories (a
comparison, like the demo's results/demo/), or a sweep directory. Bad input
exits with 2 and one line; `replay` exits with 1 when a run is not reproduced.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from experiments.cli.arguments import output_path
from experiments.formatting import DIGITS

__all__ = ["add_commands", "replay_command", "report_command"]

REPORT_DESCRIPTION = """Write one self-contained HTML report (figures embedded) of a run, a comparison directory
(several run directories; the one named baseline, else the first, is the reference) or a sweep directory,
with the figures as PNG files beside it (default DIR/report/report.html; in Persian DIR/report/fa/report.html)."""
REPLAY_DESCRIPTION = """Re-run a stored run (or each run of a comparison directory) from its manifest into a
temporary directory and check the indicators are identical; for a sweep directory, re-run some of its runs
(--runs) from the stored spec and check their monthly series. Exit 0 identical, 1 different, 2 bad input."""


def add_commands(commands) -> None:
    """Add report and replay to the `smesim` sub-command parsers."""
    report = commands.add_parser(
        "report", help="an HTML report of a run, comparison or sweep", description=REPORT_DESCRIPTION
    )
    report.add_argument("directory", metavar="DIR", type=Path, help="a run, comparison or sweep directory")
    report.add_argument("--lang", choices=("en", "fa"), default="en", help="language (default en)")
    report.add_argument("--digits", choices=DIGITS, default="latin", help="digits of the text (default latin)")
    report.add_argument(
        "--out",
        type=output_path,
        metavar="FILE",
        help="the HTML file (default DIR/report/report.html, DIR/report/fa/report.html in Persian)",
    )
    report.set_defaults(handler=_report_command)

    replay = commands.add_parser(
        "replay", help="re-run a stored run and check it is reproduced exactly", description=REPLAY_DESCRIPTION
    )
    replay.add_argument("directory", metavar="DIR", type=Path, help="a run, comparison or sweep directory")
    replay.add_argument(
        "--runs",
        type=_run_count,
        default=10,
        metavar="N|all",
        help="sweeps: how many stored runs to re-run, spread over the sweep (default 10)",
    )
    replay.set_defaults(handler=_replay_command)


def _run_count(text: str) -> int | None:
    if text == "all":
        return None
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1 or 'all', got {text!r}")
    return int(text)


def _report_command(args, argv) -> int:
    return report_command(args.directory, lang=args.lang, digits=args.digits, out=args.out)


def _replay_command(args, argv) -> int:
    return replay_command(args.directory, args.runs)


def report_command(directory: Path, lang: str = "en", digits: str = "latin", out: Path | None = None) -> int:
    from experiments.report.html import build_report  # matplotlib: imported only when a report is made

    path = build_report(directory, lang, digits, out)
    figures = sorted(path.parent.glob("fig-*.png"))
    print(f"written: {path} ({path.stat().st_size / 1024:.0f} KB) and {len(figures)} figures beside it")
    return 0


def replay_command(directory: Path, runs: int | None = 10) -> int:
    """Replay every run of DIR (for a sweep: `runs` of its runs, None all); print the verdicts;
    0 all identical, 1 some differ."""
    from experiments.runs.replay import replay_runs
    from experiments.sweeps.replay import replay_sweep
    from experiments.sweeps.store import is_sweep_directory

    sweep = is_sweep_directory(Path(directory))
    results = [replay_sweep(Path(directory), runs)] if sweep else replay_runs(Path(directory))
    for result in results:
        print(result.text())
    different = [r for r in results if not r.identical]
    what = "sweep" if sweep else "run(s)"
    if different:
        print(f"\nREPLAY DIFFERS: {len(different)} of {len(results)} {what} not reproduced")
        return 1
    print(f"\nreplay: {len(results)} {what} reproduced exactly")
    return 0
