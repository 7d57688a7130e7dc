"""The sweep commands of `smesim`:

    smesim sweep SPEC [--out DIR] [--workers N] [--scheduler ADDR] [--cluster slurm|pbs --profile FILE]
                      [--shard i/n] [--chunk-seconds S] [--no-resume] [--retry-errors]
    smesim status DIR
    smesim merge OUT SHARD_DIRS...
    smesim sweeps

SPEC is a sweep spec file or the name of a shipped one (`smesim sweeps` lists them). A sweep
resumes by default: finished runs are kept and skipped. Bad input (a bad spec or profile, a
directory holding another spec's results) exits with 2 and one line naming file and key.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from experiments.cli.arguments import output_path
from experiments.inputs.sweep_spec import load_sweep_spec, shipped_sweeps
from experiments.sweeps.executors import (
    CLUSTERS,
    DEFAULT_STALL_SECONDS,
    MAX_STALL_SECONDS,
    MAX_WORKERS_PER_CORE,
    MIN_STALL_SECONDS,
    QUEUED_STALL_SECONDS,
    ExecutorOptions,
    WorkersLost,
)
from experiments.sweeps.merge import merge_shards
from experiments.sweeps.status import sweep_status
from experiments.sweeps.sweep import DEFAULT_CHUNK_SECONDS, Shard, default_out, format_report, run_sweep

__all__ = ["add_commands", "add_executor_flags", "executor_options", "list_sweeps", "run_resumably"]

SWEEP_DESCRIPTION = """Run a sweep spec's runs and store them in DIR (default results/sweeps/<spec name>/):
runs/part-*.parquet (one row per run), series/part-*.parquet (one row per run and month), manifest.json.
Resumes by default: runs already stored are skipped. Executors: an embedded Dask cluster (default; --workers N,
0 = in this process), an existing scheduler (--scheduler), or SLURM/PBS jobs (--cluster with a --profile)."""


def add_commands(commands) -> None:
    """Add sweep, status, merge and sweeps to the `smesim` sub-command parsers."""
    sweep = commands.add_parser("sweep", help="run a sweep spec's runs (resumable)", description=SWEEP_DESCRIPTION)
    sweep.add_argument("spec", metavar="SPEC", help="a sweep spec file, or a shipped spec's name")
    sweep.add_argument("--out", type=output_path, help="results directory (default: results/sweeps/<spec name>)")
    add_executor_flags(sweep)
    sweep.add_argument("--shard", metavar="i/n", help="run only shard i of n (then smesim merge)")
    sweep.add_argument(
        "--chunk-seconds",
        type=float,
        default=DEFAULT_CHUNK_SECONDS,
        help=f"about how many seconds of runs each task holds (default {DEFAULT_CHUNK_SECONDS:g})",
    )
    sweep.add_argument("--no-resume", action="store_true", help="delete the directory's results and start over")
    sweep.add_argument(
        "--retry-errors", action="store_true", help="on resume, run the runs stored as errors again (the others stay)"
    )
    sweep.set_defaults(handler=_sweep_command)

    status = commands.add_parser(
        "status",
        help="runs done, errored and left in a sweep directory",
        description="Runs done, errored and left, per policy, and the time spent so far.",
    )
    status.add_argument("directory", metavar="DIR", type=Path, help="a sweep's results directory")
    status.set_defaults(handler=lambda args, argv: print(sweep_status(args.directory)) or 0)

    merge = commands.add_parser(
        "merge",
        help="merge shard directories of one sweep",
        description="Copy the results of shard directories (smesim sweep --shard i/n) of one "
        "spec into OUT, which then reads like an unsharded sweep.",
    )
    merge.add_argument("out", metavar="OUT", type=Path, help="the merged results directory")
    merge.add_argument("shards", metavar="SHARD_DIR", type=Path, nargs="+", help="shard results directories")
    merge.set_defaults(handler=lambda args, argv: print(merge_shards(args.out, args.shards)) or 0)

    sweeps = commands.add_parser(
        "sweeps", help="list the shipped sweep specs", description="List the shipped sweep specs."
    )
    sweeps.set_defaults(handler=lambda args, argv: print(list_sweeps()) or 0)


def add_executor_flags(parser: argparse.ArgumentParser) -> None:
    """The flags that say where runs run (--workers, --scheduler, --cluster, --profile,
    --stall-seconds): `smesim sweep`'s, shared by `smesim search`."""
    parser.add_argument(
        "--workers",
        type=int,
        help="worker processes of the embedded cluster (default: one per core; 0: run in this process; "
        f"at most {MAX_WORKERS_PER_CORE} per core)",
    )
    parser.add_argument(
        "--scheduler", metavar="ADDR", help="use the workers of this Dask scheduler, e.g. tcp://host:8786"
    )
    parser.add_argument("--cluster", choices=sorted(CLUSTERS), help="submit workers as batch jobs (needs --profile)")
    parser.add_argument("--profile", type=Path, metavar="FILE", help="the cluster profile (TOML; README, 'Sweeps')")
    parser.add_argument(
        "--stall-seconds",
        type=float,
        metavar="S",
        help="stop (resumable) when the cluster has had no worker this long, after two tries to start new ones "
        f"(default {DEFAULT_STALL_SECONDS:g}; {QUEUED_STALL_SECONDS:g} with --scheduler or --cluster; "
        f"{MIN_STALL_SECONDS:g} to {MAX_STALL_SECONDS:g})",
    )


def executor_options(args: argparse.Namespace) -> ExecutorOptions:
    """The executor the flags of `add_executor_flags` ask for, checked."""
    return ExecutorOptions(args.workers, args.scheduler, args.cluster, args.profile, args.stall_seconds).check()


def run_resumably(work: Callable[[], str], out: Path) -> int:
    """Run a sweep or search (`work` returns the text to print); a cluster that lost its workers
    is exit 1 and Ctrl-C 130, each one line naming `out`, whose finished runs are kept."""
    try:
        text = work()
    except WorkersLost as error:
        print(f"smesim: {error} ({out})", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(
            f"smesim: interrupted; the finished runs are kept in {out}: run the same command to resume", file=sys.stderr
        )
        return 130
    print(text)
    return 0


def list_sweeps() -> str:
    specs = [load_sweep_spec(path) for path in shipped_sweeps().values()]
    width = max(len(s.name) for s in specs)
    return "\n".join(f"{s.name.ljust(width)}  {s.runs_total:>6} runs  {s.description}" for s in specs)


def _sweep_command(args: argparse.Namespace, argv: list[str]) -> int:
    options = executor_options(args)
    shard = Shard.parse(args.shard) if args.shard is not None else None
    spec = load_sweep_spec(args.spec)
    out = args.out if args.out is not None else default_out(spec, shard)
    return run_resumably(
        lambda: format_report(
            run_sweep(
                spec,
                out,
                options=options,
                shard=shard,
                chunk_seconds=args.chunk_seconds,
                resume=not args.no_resume,
                retry_errors=args.retry_errors,
                command=argv,
            )
        ),
        out,
    )
