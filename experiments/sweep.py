"""Running a sweep: its runs in chunks on an executor, results streamed into the store,
resumable after any crash; its status; merging shards.

`run_sweep(spec, out)`:
1. refuses a results directory that holds another spec's results (the manifest's
   fingerprint differs) unless `resume=False`, which deletes them first;
2. deletes what a killed sweep left half-written (store.Store.clean) and skips every run that
   has a runs row (finished, ok or error);
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
import shutil
import sys
import time
from collections import Counter, deque
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pyarrow.parquet as pq
from tqdm import tqdm

from experiments.chunk import Chunk, ChunkResult, seconds_per_run_guess
from experiments.design import Run, RunPlan
from experiments.errors import ScenarioError
from experiments.executors import ExecutorOptions, open_executor, versions
from experiments.files import atomic_path, write_json_atomically
from experiments.formatting import format_table
from experiments.runner import git_state, is_terminal
from experiments.store import ERROR, MANIFEST_FILE, OK, Store, read_runs
from experiments.sweep_spec import SweepSpec

MANIFEST_VERSION = 1
MANIFEST_KIND = "smesim sweep"
RESULTS_DIR = Path("results") / "sweeps"
DEFAULT_CHUNK_SECONDS = 30.0
CHUNKS_PER_THREAD = 4  # near the end chunks shrink so that every worker keeps some
PROGRESS_LINE_SECONDS = 60.0
SEEDS_DOC = ("numpy.random.SeedSequence(entropy), entropy = first 128 bits of sha256(canonical JSON of {root_seed, "
             "the non-lever factor values, replicate}); the seed column holds it in decimal")
RUN_IDS_DOC = ("first 16 hex of sha256(canonical JSON of {root_seed, base model inputs' hash, policy settings' hash, "
               "factor values, replicate, months, scale})")


@dataclass(frozen=True)
class Shard:
    index: int  # 1-based
    count: int

    @classmethod
    def parse(cls, text: str) -> "Shard":
        match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", str(text))
        if not match or not 1 <= int(match[1]) <= int(match[2]):
            raise ScenarioError(None, "--shard", f"must be i/n with 1 <= i <= n (e.g. 2/8), got {text!r}")
        return cls(int(match[1]), int(match[2]))

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def default_out(spec: SweepSpec, shard: Shard | None = None) -> Path:
    name = spec.name if shard is None else f"{spec.name}-shard-{shard.index}-of-{shard.count}"
    return RESULTS_DIR / name


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


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


# --- progress -------------------------------------------------------------------------------


class SweepProgress:
    """Runs finished: a tqdm bar on a terminal, else a line at every tenth or every minute."""

    def __init__(self, name: str, total: int, done: int, enabled: bool = True, stream=None):
        self.name, self.total, self.done, self.errors = name, total, done, 0
        self.stream = sys.stderr if stream is None else stream
        self.enabled, self.started, self.first = enabled, time.monotonic(), done
        self.last_line = self.started
        self.bar = None
        if enabled and is_terminal(self.stream):
            self.bar = tqdm(total=total, initial=done, desc=name, unit="run", file=self.stream, dynamic_ncols=True)

    def advance(self, runs: int, errors: int) -> None:
        before, self.done, self.errors = self.done, self.done + runs, self.errors + errors
        if self.bar is not None:
            self.bar.set_postfix_str(f"{self.errors} errors" if self.errors else "", refresh=False)
            self.bar.update(runs)
            return
        now = time.monotonic()
        tenth = math.floor(10 * self.done / self.total) > math.floor(10 * before / self.total)
        if self.enabled and (tenth or now - self.last_line >= PROGRESS_LINE_SECONDS):
            self.last_line = now
            print(self._line(now), file=self.stream, flush=True)

    def _line(self, now: float) -> str:
        elapsed = now - self.started
        rate = (self.done - self.first) / elapsed if elapsed > 0 else 0.0
        left = f", ~{(self.total - self.done) / rate:.0f} s left" if rate > 0 and self.done < self.total else ""
        return (f"{self.name}: {self.done}/{self.total} runs ({self.done / self.total:.0%}), {self.errors} errors, "
                f"{elapsed:.0f} s{left}")

    def __enter__(self) -> "SweepProgress":
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.close()


# --- manifest -------------------------------------------------------------------------------


def read_manifest(directory: Path) -> dict | None:
    path = Path(directory) / MANIFEST_FILE
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ScenarioError(str(path), None, f"cannot read the sweep's manifest: {error}") from None
    if not isinstance(data, dict) or data.get("kind") != MANIFEST_KIND:
        raise ScenarioError(str(path), "kind", f"not a sweep's manifest (kind {MANIFEST_KIND!r} expected)")
    return data


def _new_manifest(spec: SweepSpec, shard: Shard | None, runs: list[Run], plan: RunPlan) -> dict:
    return {
        "manifest_version": MANIFEST_VERSION,
        "kind": MANIFEST_KIND,
        "spec_name": spec.name,
        "spec_file": spec.file,
        "spec_sha256": spec.sha256,
        "spec_text": spec.text,
        "fingerprint": spec.fingerprint,
        "spec": spec.resolved(),
        "root_seed": spec.seed,
        "seeds": SEEDS_DOC,
        "run_ids": RUN_IDS_DOC,
        "shard": None if shard is None else str(shard),
        "runs_total": len(runs),
        "runs_by_policy": dict(Counter(run.policy for run in runs)),
        "runs_in_spec": len(plan.runs),
        "runs_by_policy_in_spec": dict(Counter(run.policy for run in plan.runs)),
        "git": git_state(),
        "versions": {"client": versions(), "workers": {}},
        "started": _now(),
        "resumed": [],
        "sessions": [],
    }


def _check_resumable(store: Store, spec: SweepSpec, shard: Shard | None, resume: bool) -> dict | None:
    """The manifest to carry on, None for a fresh start; refuses another spec's results."""
    if store.directory.exists() and not store.directory.is_dir():
        raise ScenarioError(None, "--out", f"must be a directory, got the file {store.directory}")
    manifest = read_manifest(store.directory)  # a foreign or unreadable one is refused, even with --no-resume
    if manifest is None and store.has_results():
        raise ScenarioError(str(store.directory), None, f"has runs/ or series/ files but no {MANIFEST_FILE}: not a sweep "
                                                        "directory smesim wrote; use an empty --out")
    if not resume or manifest is None:
        return None
    if manifest.get("fingerprint") != spec.fingerprint:
        raise ScenarioError(str(store.directory), None,
                            f"holds results of a different spec ({manifest.get('spec_file')}, fingerprint "
                            f"{str(manifest.get('fingerprint'))[:12]}); {spec.file} is now {spec.fingerprint[:12]}. "
                            "Not resuming: use another --out, or --no-resume to delete those results and start over")
    if manifest.get("shard") != (None if shard is None else str(shard)):
        raise ScenarioError(None, "--shard", f"{store.directory} holds shard {manifest.get('shard') or 'none (all runs)'}, "
                                             f"not {shard or 'none (all runs)'}: use the same --shard or another --out")
    return manifest


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


def run_sweep(spec: SweepSpec, out: Path | None = None, *, options: ExecutorOptions = ExecutorOptions(),
              executor=None, shard: Shard | None = None, chunk_seconds: float = DEFAULT_CHUNK_SECONDS,
              resume: bool = True, progress: bool = True, command: list[str] | None = None) -> SweepReport:
    """Run the spec's runs that `out` does not hold yet (module doc). `executor`: an open one
    to use (else `options` say which to start)."""
    if isinstance(chunk_seconds, bool) or not isinstance(chunk_seconds, (int, float)) or not 0 < chunk_seconds < math.inf:
        raise ScenarioError(None, "--chunk-seconds", f"must be a number of seconds > 0, got {chunk_seconds!r}")
    options.check()
    store = Store(default_out(spec, shard) if out is None else out)
    plan = RunPlan(spec)
    runs = plan.runs if shard is None else plan.shard(shard.index, shard.count)
    manifest = _check_resumable(store, spec, shard, resume)
    if not resume:
        store.clear()
    cleaned = store.clean()
    finished = store.finished_run_ids()
    todo = [run for run in runs if run.run_id not in finished]
    clock = time.perf_counter()
    session = {"started": _now(), "command": list(sys.argv) if command is None else list(command),
               "chunk_seconds": chunk_seconds, "runs_done_before": len(runs) - len(todo), "files_cleaned": len(cleaned),
               "git_commit": git_state()["commit"]}
    if manifest is None:
        manifest = _new_manifest(spec, shard, runs, plan)
    else:
        manifest["resumed"].append(session["started"])
    manifest["sessions"].append(session)
    errors, description = 0, "nothing to run"
    if todo:
        errors, description = _run_chunks(spec, store, todo, len(runs), chunk_seconds, options, executor,
                                          manifest, session, progress)
    session.update(finished=_now(), runs_run=len(todo), errors=errors, executor=description)
    write_json_atomically(manifest, store.manifest_path)
    return SweepReport(spec, store.directory, len(runs), len(runs) - len(todo), len(todo), errors,
                       time.perf_counter() - clock, description)


def _run_chunks(spec, store: Store, todo: list[Run], total: int, chunk_seconds: float, options, executor,
                manifest: dict, session: dict, progress: bool) -> tuple[int, str]:
    errors = 0
    with (nullcontext(executor) if executor is not None else open_executor(options)) as running:
        session["executor"] = running.description
        write_json_atomically(manifest, store.manifest_path)  # before any result: the directory is this spec's
        planner = ChunkPlanner(spec, todo, chunk_seconds, running.parallelism)
        if progress:
            print(f"{spec.name}: {len(todo)} runs to do, {total - len(todo)} already done; on {running.description}",
                  file=sys.stderr, flush=True)
        with SweepProgress(spec.name, total, total - len(todo), enabled=progress) as bar:
            for result in running.results(planner.next_chunk):
                store.write_chunk(result.name, result.runs, result.series)
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
    lines = [f"{report.spec.name}: {report.spec.description}",
             f"{done} of {report.runs_total} runs in {report.out} ({report.done_before} already there, "
             f"{report.run_now} run now in {report.seconds:.1f} s; {report.executor})"]
    if report.errors_now:
        lines.append(f"{report.errors_now} runs failed: status \"error\" rows with the error text in "
                     f"{report.out / 'runs'} (smesim status {report.out})")
    return "\n".join(lines)


# --- status ---------------------------------------------------------------------------------


def sweep_status(directory: Path | str) -> str:
    """Runs done, errored and left, per policy, and the time spent so far."""
    directory = Path(directory)
    manifest = read_manifest(directory)
    if manifest is None:
        raise ScenarioError(str(directory), None, f"no {MANIFEST_FILE}: not a sweep directory (smesim sweep writes one)")
    runs = read_runs(directory, columns=["run_id", "policy", "status", "wall_seconds"])
    planned = manifest.get("runs_by_policy", {})
    rows = []
    for policy in dict.fromkeys([*planned, *runs["policy"].unique()]):
        mine = runs[runs["policy"] == policy]
        ok, failed = int((mine["status"] == OK).sum()), int((mine["status"] == ERROR).sum())
        left = max(planned.get(policy, 0) - ok - failed, 0)
        rows.append((policy, str(ok), str(failed), str(left), f"{mine['wall_seconds'].sum():.1f}"))
    total, done = manifest.get("runs_total", 0), len(runs)
    errors = int((runs["status"] == ERROR).sum())
    scope = f"shard {manifest['shard']} of " if manifest.get("shard") else ""
    return "\n".join([
        f"{scope}sweep {manifest.get('spec_name')} ({manifest.get('spec_file')}) in {directory}",
        f"{done} of {total} runs done ({errors} errors), {max(total - done, 0)} left; "
        f"{runs['wall_seconds'].sum():.1f} s of run time; {_sessions_text(manifest, directory)}",
        "", format_table(("policy", "ok", "errors", "left", "run seconds"), rows, right=(1, 2, 3, 4)),
    ])


def _sessions_text(manifest: dict, directory: Path) -> str:
    sessions = manifest.get("sessions", [])
    seconds = 0.0
    for session in sessions:
        start = datetime.fromisoformat(session["started"])
        if "finished" in session:
            end = datetime.fromisoformat(session["finished"])
        else:  # interrupted, or still running: until its last file
            latest = max((p.stat().st_mtime for p in (directory / "runs").glob("*.parquet")), default=start.timestamp())
            end = datetime.fromtimestamp(max(latest, start.timestamp()), timezone.utc)
        seconds += (end - start).total_seconds()
    unfinished = sum("finished" not in s for s in sessions)
    note = f", {unfinished} interrupted or running" if unfinished else ""
    return f"{len(sessions)} session{'s' if len(sessions) != 1 else ''} over {seconds:.0f} s{note}"


# --- merging shards -------------------------------------------------------------------------


def merge_shards(out: Path | str, shard_dirs: list[Path | str]) -> str:
    """Copy the chunks of shard directories (of one spec) into `out`, refusing mixed specs and
    runs that two directories both hold; `out` gets a manifest for the whole spec."""
    out, shard_dirs = Path(out), [Path(d) for d in shard_dirs]
    manifests = [_shard_manifest(d) for d in shard_dirs]
    first = manifests[0]
    for directory, manifest in zip(shard_dirs, manifests):
        if manifest["fingerprint"] != first["fingerprint"]:
            raise ScenarioError(str(directory), None, f"is a sweep of another spec than {shard_dirs[0]} "
                                                      f"({manifest.get('spec_file')} vs {first.get('spec_file')}); not merging")
    target = Store(out)
    existing = read_manifest(out) if target.manifest_path.exists() else None
    if existing is not None and existing["fingerprint"] != first["fingerprint"]:
        raise ScenarioError(str(out), None, "holds results of another spec; merge into an empty directory")
    if existing is None and target.has_results():
        raise ScenarioError(str(out), None, f"has results but no {MANIFEST_FILE}; merge into an empty directory")
    target.clean()
    _check_disjoint([target, *map(Store, shard_dirs)], [out, *shard_dirs])
    copied = sum(_copy_chunks(Store(d), target) for d in shard_dirs)
    manifest = existing or {**first, "shard": None, "runs_total": first["runs_in_spec"],
                            "runs_by_policy": first["runs_by_policy_in_spec"], "sessions": [], "resumed": [],
                            "merged": []}
    manifest.setdefault("merged", []).append({"at": _now(), "shards": [
        {"directory": str(d), "shard": m["shard"], "sessions": m["sessions"]} for d, m in zip(shard_dirs, manifests)]})
    for m in manifests:
        manifest["versions"]["workers"].update(m["versions"]["workers"])
    write_json_atomically(manifest, target.manifest_path)
    done = len(target.finished_run_ids())
    return (f"merged {len(shard_dirs)} director{'ies' if len(shard_dirs) != 1 else 'y'} ({copied} chunk files) into "
            f"{out}: {done} of {manifest['runs_total']} runs")


def _shard_manifest(directory: Path) -> dict:
    manifest = read_manifest(directory)
    if manifest is None:
        raise ScenarioError(str(directory), None, f"no {MANIFEST_FILE}: not a sweep directory")
    return manifest


def _check_disjoint(stores: list[Store], names: list[Path]) -> None:
    """No run may be in two directories under different chunk files (they would be duplicated)."""
    owner: dict[str, tuple[Path, str]] = {}
    for store, name in zip(stores, names):
        for runs_file, _ in store.part_files():
            for run_id in read_runs_ids(runs_file):
                if run_id in owner and owner[run_id][1] != runs_file.name:
                    raise ScenarioError(str(name), None, f"holds run {run_id}, which {owner[run_id][0]} holds too "
                                                         "(shards of different splits?); not merging")
                owner[run_id] = (name, runs_file.name)


def read_runs_ids(runs_file: Path) -> list[str]:
    return pq.read_table(runs_file, columns=["run_id"]).column("run_id").to_pylist()


def _copy_chunks(source: Store, target: Store) -> int:
    """Copy the finished chunks `target` lacks, series before runs (as a sweep writes them)."""
    copied = 0
    for runs_file, series_file in source.part_files():
        if (target.runs_dir / runs_file.name).exists():
            continue
        for path, folder in ((series_file, target.series_dir), (runs_file, target.runs_dir)):
            if path is None:
                continue
            with atomic_path(folder / path.name) as tmp:
                shutil.copyfile(path, tmp)
            copied += 1
    return copied
