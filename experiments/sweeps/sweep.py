"""Running a sweep: its runs in chunks on an executor, results streamed into the store,
resumable after any crash; its status; merging shards.

`run_sweep(spec, out)`, holding the store's lock (a second writer is refused):
1. refuses a results directory that holds another spec's results (the manifest's
   fingerprint differs) unless `resume=False`, which deletes them first;
2. repairs the store (store.Store.repair: damaged chunks moved aside, what a killed sweep left
   half-written deleted; with `retry_errors` the error rows dropped) and skips every run of a
   verified chunk (finished, ok or error);
3. groups the remaining runs, in canonical order, into chunks of about `chunk_seconds` of work
   (estimated from months and scale at first, then from the runs' measured times; smaller
   near the end so that all workers stay busy), runs them on the executor and writes each
   chunk's files as its result arrives;
4. records the session in manifest.json (written before the first chunk and after the last).

With `shard=Shard(i, n)` only the runs whose index in the canonical order is i - 1 modulo n
are run, into their own directory (default `results/sweeps/<spec>-shard-<i>-of-<n>`); batch
jobs can run the shards anywhere and `merge_shards` (`smesim merge OUT SHARD_DIRS...`) puts
them together. Results do not depend on chunking, workers, retries, order or shards: each
run's seed comes from its own inputs (experiments.design).
"""

from __future__ import annotations

import json
import math
import re
import sys
import time
from collections import Counter, deque
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from experiments.errors import FlagError, InputFileError
from experiments.files import RESULTS_DIR, write_json_atomically
from experiments.inputs.sweep_spec import SweepSpec
from experiments.runs.progress import SweepProgress
from experiments.runs.provenance import git_state, now
from experiments.sweeps.chunk import Chunk, ChunkResult, seconds_per_run_guess
from experiments.sweeps.design import Run, RunPlan
from experiments.sweeps.executors import ExecutorOptions, open_executor, versions
from experiments.sweeps.store import MANIFEST_FILE, MANIFEST_KIND, Store, read_manifest

__all__ = [
    "DEFAULT_CHUNK_SECONDS",
    "SWEEPS_DIR",
    "Shard",
    "SweepReport",
    "default_out",
    "format_report",
    "run_sweep",
    "spec_record",
]

MANIFEST_VERSION = 2  # 2: parts.jsonl records every chunk's checksums
SWEEPS_DIR = RESULTS_DIR / "sweeps"
DEFAULT_CHUNK_SECONDS = 30.0
CHUNKS_PER_THREAD = 4  # near the end chunks shrink so that every worker keeps some
SEEDS_DOC = (
    "numpy.random.SeedSequence(entropy), entropy = first 128 bits of sha256(canonical JSON of {root_seed, "
    "the non-lever factor values, replicate}); the seed column holds it in decimal"
)
SOBOL_SEEDS_DOC = (
    "numpy.random.SeedSequence(entropy), entropy = first 128 bits of sha256(canonical JSON of {root_seed, "
    "{sobol_sample: the sample}, replicate}): the rows A, B and AB:i of a sample share a seed; the seed "
    "column holds it in decimal"
)


MORRIS_SEEDS_DOC = (
    "numpy.random.SeedSequence(entropy), entropy = first 128 bits of sha256(canonical JSON of {root_seed, "
    "{morris_trajectory: the trajectory}, replicate}): the points of a trajectory share a seed; the seed "
    "column holds it in decimal"
)


def seeds_doc(spec: SweepSpec) -> str:
    """How the spec's runs get their seeds (recorded in the manifest; a resume needs the same rule)."""
    return {"sobol": SOBOL_SEEDS_DOC, "morris": MORRIS_SEEDS_DOC}.get(spec.design, SEEDS_DOC)


RUN_IDS_DOC = (
    "first 16 hex of sha256(canonical JSON of {root_seed, base model inputs' hash, policy settings' hash, "
    "factor values, replicate, months, scale})"
)


@dataclass(frozen=True)
class Shard:
    index: int  # 1-based
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", str(text))
        if not match or not 1 <= int(match[1]) <= int(match[2]):
            raise FlagError("--shard", f"must be i/n with 1 <= i <= n (e.g. 2/8), got {text!r}")
        return cls(int(match[1]), int(match[2]))

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def default_out(spec: SweepSpec, shard: Shard | None = None) -> Path:
    name = spec.name if shard is None else f"{spec.name}-shard-{shard.index}-of-{shard.count}"
    return SWEEPS_DIR / name


# --- chunks ---------------------------------------------------------------------------------


class ChunkPlanner:
    """Hands out the remaining runs in canonical order, in chunks of about `chunk_seconds` of work."""

    def __init__(self, spec: SweepSpec, runs: list[Run], chunk_seconds: float, parallelism):
        self.spec, self.queue, self.chunk_seconds, self.parallelism = spec, deque(runs), chunk_seconds, parallelism
        self.seconds_per_run = seconds_per_run_guess(spec.months, spec.scale)
        self.measured_runs, self.measured_seconds = 0, 0.0

    def size(self) -> int:
        by_time = max(1, round(self.chunk_seconds / self.seconds_per_run))
        balanced = max(1, math.ceil(len(self.queue) / (CHUNKS_PER_THREAD * self.parallelism())))
        return min(by_time, balanced)

    def next_chunk(self) -> Chunk | None:
        if not self.queue:
            return None
        size = min(self.size(), len(self.queue))
        return Chunk(self.spec, tuple(self.queue.popleft() for _ in range(size)))

    def observe(self, result: ChunkResult) -> None:
        """Learn the runs' real duration from a finished chunk."""
        seconds = [s for s in result.wall_seconds if math.isfinite(s)]
        self.measured_runs += len(seconds)
        self.measured_seconds += sum(seconds)
        if self.measured_runs:
            self.seconds_per_run = max(self.measured_seconds / self.measured_runs, 1e-3)


# --- manifest -------------------------------------------------------------------------------


def spec_record(spec) -> dict:
    """A spec as a manifest records it (a sweep's or a search's): its name, file, text and
    fingerprint, enough to replay what it ran."""
    return {
        "spec_name": spec.name,
        "spec_file": spec.file,
        "spec_sha256": spec.sha256,
        "spec_text": spec.text,
        "fingerprint": spec.fingerprint,
        "spec": spec.resolved(),
    }


def _new_manifest(spec: SweepSpec, shard: Shard | None, runs: list[Run], plan: RunPlan) -> dict:
    return {
        "manifest_version": MANIFEST_VERSION,
        "kind": MANIFEST_KIND,
        **spec_record(spec),
        "root_seed": spec.seed,
        "seeds": seeds_doc(spec),
        "run_ids": RUN_IDS_DOC,
        "shard": None if shard is None else str(shard),
        "runs_total": len(runs),
        "runs_by_policy": dict(Counter(run.policy for run in runs)),
        "runs_in_spec": len(plan.runs),
        "runs_by_policy_in_spec": dict(Counter(run.policy for run in plan.runs)),
        "git": git_state(),
        "versions": {"client": versions(), "workers": {}},
        "started": now(),
        "resumed": [],
        "sessions": [],
    }


def _check_resumable(store: Store, spec: SweepSpec, shard: Shard | None, resume: bool) -> dict | None:
    """The manifest to carry on, None for a fresh start; refuses another spec's results."""
    manifest = read_manifest(store.directory)  # a foreign or unreadable one is refused, even with --no-resume
    if manifest is None and store.has_results():
        raise InputFileError(
            str(store.directory),
            None,
            f"has runs/ or series/ files but no {MANIFEST_FILE}: not a sweep "
            "directory smesim wrote; use an empty --out",
        )
    if not resume or manifest is None:
        return None
    if manifest.get("fingerprint") != spec.fingerprint:
        raise InputFileError(
            str(store.directory),
            None,
            f"holds results of a different spec ({manifest.get('spec_file')}, fingerprint "
            f"{str(manifest.get('fingerprint'))[:12]}); {spec.file} is now {spec.fingerprint[:12]}. "
            "Not resuming: use another --out, or --no-resume to delete those results and start over",
        )
    if manifest.get("seeds") != seeds_doc(spec):
        raise InputFileError(
            str(store.directory),
            None,
            "holds runs seeded by another rule (an earlier version of smesim gave the rows of a Sobol "
            "sample different seeds); not resuming: use another --out, or --no-resume to start over",
        )
    if manifest.get("shard") != (None if shard is None else str(shard)):
        raise FlagError(
            "--shard",
            f"{store.directory} holds shard {manifest.get('shard') or 'none (all runs)'}, "
            f"not {shard or 'none (all runs)'}: use the same --shard or another --out",
        )
    return manifest


def policies_table(spec: SweepSpec) -> pa.Table:
    """One row per policy: its name and complete lever settings, a column each ("levers.<lever>.<setting>":
    numbers as float64, yes/no as bool, text as string, lists as JSON text)."""
    rows = [
        {"policy": name}
        | {
            f"levers.{lever}.{setting}": _column_value(value)
            for lever, settings in policy.to_dict().items()
            for setting, value in settings.items()
        }
        for name, policy in spec.policies.items()
    ]
    return pa.Table.from_pylist(rows)


def _column_value(value):
    if isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    return json.dumps(value)


# --- the sweep ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepReport:
    spec: SweepSpec
    out: Path
    runs_total: int  # in this directory's scope (the shard's runs, or all)
    done_before: int
    run_now: int
    errors_now: int
    seconds: float
    executor: str


def run_sweep(
    spec: SweepSpec,
    out: Path | None = None,
    *,
    options: ExecutorOptions | None = None,
    executor=None,
    shard: Shard | None = None,
    chunk_seconds: float = DEFAULT_CHUNK_SECONDS,
    resume: bool = True,
    retry_errors: bool = False,
    progress: bool = True,
    command: list[str] | None = None,
) -> SweepReport:
    """Run the spec's runs that `out` does not hold yet (module doc). `executor`: an open one
    to use (else `options` say which to start). `retry_errors`: run the runs stored as errors
    again. Holds the store's lock throughout (a second writer is refused: store.StoreBusy)."""
    if (
        isinstance(chunk_seconds, bool)
        or not isinstance(chunk_seconds, (int, float))
        or not 0 < chunk_seconds < math.inf
    ):
        raise FlagError("--chunk-seconds", f"must be a number of seconds > 0, got {chunk_seconds!r}")
    options = (options or ExecutorOptions()).check()
    store = Store(default_out(spec, shard) if out is None else out)
    if store.directory.exists() and not store.directory.is_dir():
        raise FlagError("--out", f"must be a directory, got the file {store.directory}")
    command = list(sys.argv) if command is None else list(command)
    clock = time.perf_counter()
    with store.lock(command) as stale:
        runs, todo, manifest, session = _start_session(spec, store, shard, resume, retry_errors, progress)
        session.update(command=command, chunk_seconds=chunk_seconds)
        if stale:
            session["lock_taken_over"] = stale
        errors, description = 0, "nothing to run"
        if todo:
            errors, description = _run_chunks(
                spec, store, todo, len(runs), chunk_seconds, options, executor, manifest, session, progress
            )
        session.update(finished=now(), runs_run=len(todo), errors=errors, executor=description)
        _write_manifest(store, manifest, spec)
    done_before = len(runs) - len(todo)
    return SweepReport(
        spec, store.directory, len(runs), done_before, len(todo), errors, time.perf_counter() - clock, description
    )


def _write_manifest(store: Store, manifest: dict, spec: SweepSpec) -> None:
    """The manifest, after the policies table it records (written once the executor is up, so that
    a sweep that cannot start leaves nothing)."""
    manifest["policies_file"] = store.write_policies(policies_table(spec))
    write_json_atomically(manifest, store.manifest_path)


def _start_session(spec, store: Store, shard, resume: bool, retry_errors: bool, progress: bool):
    """Under the lock: the runs in scope, those left to do, the manifest to carry on (or a new
    one) and this session's record, after the store is repaired."""
    plan = RunPlan(spec)
    runs = plan.runs if shard is None else plan.shard(shard.index, shard.count)
    manifest = _check_resumable(store, spec, shard, resume)
    if not resume:
        store.clear()
    repairs = store.repair(retry_errors=retry_errors)
    if progress:
        for line in repairs:
            print(f"{spec.name}: {line}", file=sys.stderr, flush=True)
    finished = store.check().run_ids()
    todo = [run for run in runs if run.run_id not in finished]
    session = {
        "started": now(),
        "runs_done_before": len(runs) - len(todo),
        "repairs": repairs,
        "git_commit": git_state()["commit"],
    }
    if manifest is None:
        manifest = _new_manifest(spec, shard, runs, plan)
    else:
        manifest["resumed"].append(session["started"])
    manifest["manifest_version"] = MANIFEST_VERSION
    manifest["sessions"].append(session)
    return runs, todo, manifest, session


def _run_chunks(
    spec,
    store: Store,
    todo: list[Run],
    total: int,
    chunk_seconds: float,
    options,
    executor,
    manifest: dict,
    session: dict,
    progress: bool,
) -> tuple[int, str]:
    errors = 0
    with nullcontext(executor) if executor is not None else open_executor(options) as running:
        session["executor"] = running.description
        _write_manifest(store, manifest, spec)  # before any result: the directory is this spec's
        planner = ChunkPlanner(spec, todo, chunk_seconds, running.parallelism)
        if progress:
            print(
                f"{spec.name}: {len(todo)} runs to do, {total - len(todo)} already done; on {running.description}",
                file=sys.stderr,
                flush=True,
            )
            if spec.design == "sobol" and spec.replications == 1:
                print(
                    f"{spec.name}: note: one replication per Sobol point, so smesim sensitivity cannot say how "
                    "much of each index is run-to-run noise; set replications >= 2 to measure it",
                    file=sys.stderr,
                    flush=True,
                )
        with SweepProgress(spec.name, total, total - len(todo), enabled=progress) as bar:
            for result in running.results(planner.next_chunk, on_wait=bar.waiting):
                store.write_chunk(result.name, result.runs, result.series, session=len(manifest["sessions"]) - 1)
                planner.observe(result)
                errors += result.errors
                bar.advance(result.runs.num_rows, result.errors)
        manifest["versions"]["workers"].update(_worker_versions(running))
    return errors, running.description


def _worker_versions(executor) -> dict:
    try:
        return executor.worker_versions()
    except Exception:  # noqa: BLE001 - a worker gone at the end must not fail a finished sweep
        return {}


def format_report(report: SweepReport) -> str:
    done = report.done_before + report.run_now
    lines = [
        f"{report.spec.name}: {report.spec.description}",
        f"{done} of {report.runs_total} runs in {report.out} ({report.done_before} already there, "
        f"{report.run_now} run now in {report.seconds:.1f} s; {report.executor})",
    ]
    if report.errors_now:
        lines.append(
            f'{report.errors_now} runs failed: status "error" rows with the error text in '
            f"{report.out / 'runs'} (smesim status {report.out})"
        )
    return "\n".join(lines)
