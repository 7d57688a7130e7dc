"""The search commands of `smesim`:

    smesim search SPEC [--out DIR] [--workers N] [--scheduler ADDR] [--cluster slurm|pbs --profile FILE]
                       [--stall-seconds S] [--chunk-seconds S]
    smesim searches
    smesim discover DIR --policy NAME --goal NAME [--succeeds] [--alpha A] [--min-support S] [--out DIR]

SPEC is a search spec file or the name of a shipped one (`smesim searches` lists them). A
search resumes by default: its rounds are sweeps in DIR, and runs already stored are kept.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from experiments.cli.arguments import output_path
from experiments.cli.sweep import add_executor_flags, executor_options, run_resumably

__all__ = ["add_commands", "list_searches"]

SEARCH_DESCRIPTION = """Find the cheapest mix of levers (fiscal cost: policy_spend_usd) whose probability of meeting
every goal of each goal set over the uncertainty ensemble is at least p: rounds of sweeps proposed by Gaussian-process
surrogates, then a verification of the short list on fresh seeds. Writes into DIR (default results/searches/<spec
name>/) the rounds' stores, frontier.csv and frontier.png, verification.csv, surrogates.csv, recommended-<goal
set>.toml and summary.txt. Resumes by default."""

DISCOVER_DESCRIPTION = """Scenario discovery: the boxes of the uncertainty space where a policy fails (or meets) a
goal, by PRIM (a peeling trajectory of coverage against density to choose from) and a CART tree, on any sweep or
search directory. Writes prim_trajectory.csv, prim_box.csv, cart.txt, peeling.png and summary.txt into
DIR/discovery/<policy>-<goal>-<fails|succeeds>/ (or --out)."""


def add_commands(commands) -> None:
    """Add search, searches and discover to the `smesim` sub-command parsers."""
    search = commands.add_parser(
        "search", help="the cheapest mix of levers that meets goals (resumable)", description=SEARCH_DESCRIPTION
    )
    search.add_argument("spec", metavar="SPEC", help="a search spec file, or a shipped spec's name")
    search.add_argument("--out", type=output_path, help="search directory (default: results/searches/<spec name>)")
    add_executor_flags(search)
    search.set_defaults(handler=_search_command)

    searches = commands.add_parser(
        "searches", help="list the shipped search specs", description="List the shipped search specs."
    )
    searches.set_defaults(handler=lambda args, argv: print(list_searches()) or 0)

    discover = commands.add_parser(
        "discover",
        help="where in the uncertainties a policy fails a goal (PRIM, CART)",
        description=DISCOVER_DESCRIPTION,
    )
    discover.add_argument("directory", metavar="DIR", type=Path, help="a sweep's or a search's directory")
    discover.add_argument(
        "--policy", required=True, metavar="NAME", help="the policy (a search's candidate, e.g. c0007)"
    )
    discover.add_argument("--goal", required=True, metavar="NAME", help="a goal of the sweep's goals")
    discover.add_argument(
        "--succeeds", action="store_true", help="find where the goal is met (default: where it fails)"
    )
    discover.add_argument("--alpha", type=float, default=0.05, help="PRIM's peeling share per step (default 0.05)")
    discover.add_argument(
        "--min-support", type=float, default=0.05, help="stop peeling at this share of the runs (default 0.05)"
    )
    discover.add_argument("--out", type=output_path, help="where to write (default DIR/discovery/<policy>-<goal>-...)")
    discover.set_defaults(handler=_discover_command)


def list_searches() -> str:
    from experiments.search.spec import load_search_spec, shipped_searches

    specs = [load_search_spec(path) for path in shipped_searches().values()]
    if not specs:
        return "no shipped search specs"
    width = max(len(s.name) for s in specs)
    return "\n".join(f"{s.name.ljust(width)}  {s.evaluations:>4} candidates  {s.description}" for s in specs)


def _search_command(args: argparse.Namespace, argv: list[str]) -> int:
    from experiments.search.outputs import format_search
    from experiments.search.search import SEARCHES_DIR, run_search
    from experiments.search.spec import load_search_spec

    options = executor_options(args)
    spec = load_search_spec(args.spec)
    out = args.out if args.out is not None else SEARCHES_DIR / spec.name
    return run_resumably(lambda: format_search(run_search(spec, out, options=options, command=argv)), out)


def _discover_command(args: argparse.Namespace, argv: list[str]) -> int:
    from experiments.analysis.discovery import discover, format_discovery, write_discovery

    found = discover(
        args.directory, args.policy, args.goal, fails=not args.succeeds, alpha=args.alpha, min_support=args.min_support
    )
    out = (
        args.out
        or args.directory / "discovery" / f"{args.policy}-{args.goal}-{'succeeds' if args.succeeds else 'fails'}"
    )
    write_discovery(found, out)
    print(format_discovery(found, out))
    return 0
