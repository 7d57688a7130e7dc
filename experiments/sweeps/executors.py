"""Where a sweep's chunks run.

- default: an embedded Dask `LocalCluster` of worker processes, one thread each (`--workers N`,
  default: one per core), started and stopped by the command;
- `--scheduler tcp://HOST:PORT`: the workers of an existing Dask scheduler;
- `--cluster slurm|pbs --profile FILE`: workers submitted as batch jobs through dask-jobqueue
  (the optional extra `pip install 'smesim[cluster]'`), configured by a TOML profile
  (`load_profile`);
- `--workers 0`: in this process, one chunk after another (debugging, the benchmark's reference).

Chunks stream back with `as_completed`; each result is handed over, then its future is
released at once, so a worker that dies later does not make Dask rerun chunks already
written. About 4 chunks per worker thread are kept in flight. Exceptions inside a chunk are
retried (`retries`); runs that raise are already error rows (experiments.chunk). A chunk whose
worker keeps dying (Dask gives up with KilledWorker after a few deaths) is split and its runs
are run one by one, so the run that kills its worker is found and recorded as an error row.

While it waits the driver counts the workers every few seconds (`Watchdog`): a cluster that
has had none for `--stall-seconds` (default 120 s embedded, 30 min for a scheduler's or batch
jobs' workers, which may queue) is asked for new ones, twice, and then the sweep stops with
WorkersLost (every finished run kept; the same command resumes). The embedded cluster's
scheduler and dashboard listen on 127.0.0.1 only.
"""

from __future__ import annotations

import importlib
import logging
import os
import re
import subprocess
import sys
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from experiments.errors import FlagError, InputFileError, from_file, unknown_name
from experiments.files import read_toml
from experiments.runs.provenance import package_versions
from experiments.sweeps.chunk import Chunk, ChunkResult, killed_result, run_chunk
from simulation.errors import InputError

__all__ = [
    "CLUSTERS",
    "ClusterProfile",
    "DaskExecutor",
    "Executor",
    "ExecutorOptions",
    "SerialExecutor",
    "Watchdog",
    "WorkersLost",
    "load_profile",
    "open_executor",
    "versions",
]

IN_FLIGHT_PER_THREAD = 4
CHUNK_RETRIES = 2  # exceptions raised by a chunk outside its runs (infrastructure), not worker deaths
CLUSTERS = {"slurm": "SLURMCluster", "pbs": "PBSCluster"}
CONNECT_TIMEOUT = "20s"
SWEEP_PACKAGES = ("dask", "distributed")
MAX_WORKERS_PER_CORE = 4
POLL_SECONDS = 0.2  # how often the driver looks for finished chunks
FETCH_SECONDS = 20.0  # a finished chunk's result not fetched by then was lost with its worker
CHECK_SECONDS = 5.0  # how often, while waiting, it counts the cluster's workers
RESTARTS = 2  # tries to get new workers before a sweep without workers stops
DEFAULT_STALL_SECONDS = 120.0  # embedded cluster; a scheduler's or batch jobs' workers may queue longer
QUEUED_STALL_SECONDS = 1800.0
MIN_STALL_SECONDS, MAX_STALL_SECONDS = 10.0, 7 * 86400.0
LOCAL_HOST = "127.0.0.1"  # the embedded cluster's scheduler and dashboard listen only here


def versions() -> dict[str, str | None]:
    """Package versions of this process (the runner's list, plus Dask)."""
    return package_versions(SWEEP_PACKAGES)


# --- options --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExecutorOptions:
    workers: int | None = None  # embedded cluster size (None: one per core); 0: in this process
    scheduler: str | None = None  # address of an existing Dask scheduler
    cluster: str | None = None  # "slurm" or "pbs" (dask-jobqueue)
    profile: Path | None = None  # the cluster's TOML profile
    stall_seconds: float | None = None  # give up on a cluster without workers (None: the executor's default)

    def check(self) -> ExecutorOptions:
        """Refuse combinations that do not make sense, naming the flag."""
        if self.workers is not None and (
            isinstance(self.workers, bool) or not 0 <= self.workers <= max_embedded_workers()
        ):
            raise FlagError(
                "--workers",
                f"must be a whole number from 0 (in this process) to {max_embedded_workers()} "
                f"({MAX_WORKERS_PER_CORE} per core), got {self.workers}",
            )
        if self.stall_seconds is not None and not MIN_STALL_SECONDS <= self.stall_seconds <= MAX_STALL_SECONDS:
            raise FlagError(
                "--stall-seconds",
                f"must be from {MIN_STALL_SECONDS:g} to {MAX_STALL_SECONDS:g} seconds, got {self.stall_seconds:g}",
            )
        if self.scheduler is not None and self.cluster is not None:
            raise FlagError("--scheduler", "give either --scheduler or --cluster, not both")
        if self.workers is not None and (self.scheduler or self.cluster):
            raise FlagError(
                "--workers",
                "sets the size of the embedded cluster; with --scheduler or --cluster "
                "the workers are the scheduler's (or the profile's jobs)",
            )
        if self.scheduler is not None and not re.fullmatch(r"(tcp|tls|ucx|inproc|ws|wss)://\S+", self.scheduler):
            raise FlagError(
                "--scheduler", f"must be a scheduler address such as tcp://host:8786, got {self.scheduler!r}"
            )
        if self.cluster is not None and self.cluster not in CLUSTERS:
            raise FlagError("--cluster", f"must be one of {list(CLUSTERS)}, got {self.cluster!r}")
        if (self.cluster is None) != (self.profile is None):
            raise FlagError(
                "--profile" if self.cluster else "--cluster",
                "--cluster and --profile go together: --cluster slurm|pbs --profile FILE",
            )
        return self


def max_embedded_workers() -> int:
    """The largest embedded cluster: more worker processes than this only exhaust memory."""
    return MAX_WORKERS_PER_CORE * (os.cpu_count() or 1)


# --- cluster profiles -----------------------------------------------------------------------

PROFILE_KEYS = {
    "queue": "the partition (SLURM) or queue (PBS) to submit to",
    "account": "the account or project charged",
    "cores": "cores per job: as many worker processes, one thread each (whole number >= 1)",
    "memory": 'memory per job, e.g. "16GB"',
    "walltime": 'time limit per job, e.g. "04:00:00"',
    "jobs": "how many jobs to submit (whole number >= 1)",
    "job_extra_directives": 'extra scheduler directives, e.g. ["--constraint=cpu"]',
    "job_script_prologue": 'shell lines run before the worker starts, e.g. ["source ~/venv/bin/activate"]',
    "local_directory": "a fast local folder for the workers' spill files",
    "log_directory": "where the jobs' logs go",
    "python": "the Python that runs the workers (default: this one)",
    "interface": 'network interface the workers listen on, e.g. "ib0"',
}
REQUIRED_PROFILE_KEYS = ("cores", "memory", "walltime", "jobs")
MEMORY = re.compile(r"\d+(\.\d+)?\s*([kKMGTP]i?B|B)")
WALLTIME = re.compile(r"(\d+-)?\d{1,4}:\d{2}(:\d{2})?")
MAX_JOBS = 10_000


@dataclass(frozen=True)
class ClusterProfile:
    kind: str
    file: str
    settings: dict

    @property
    def jobs(self) -> int:
        return self.settings["jobs"]

    @property
    def threads(self) -> int:
        return self.settings["jobs"] * self.settings["cores"]

    def cluster_kwargs(self) -> dict:
        """Keyword arguments of the dask-jobqueue class: one single-threaded worker process per core."""
        kwargs = {key: value for key, value in self.settings.items() if key != "jobs"}
        return {**kwargs, "processes": self.settings["cores"], "scheduler_options": {"dashboard_address": ":0"}}


def _profile_value(key: str, value):
    ok = {
        "cores": lambda v: isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 1024,
        "jobs": lambda v: isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= MAX_JOBS,
        "memory": lambda v: isinstance(v, str) and MEMORY.fullmatch(v.strip()) is not None,
        "walltime": lambda v: isinstance(v, str) and WALLTIME.fullmatch(v.strip()) is not None,
        "job_extra_directives": lambda v: isinstance(v, list) and all(isinstance(s, str) for s in v),
        "job_script_prologue": lambda v: isinstance(v, list) and all(isinstance(s, str) for s in v),
    }.get(key, lambda v: isinstance(v, str) and v.strip() != "")
    if not ok(value):
        raise InputError(key, f"must be {PROFILE_KEYS[key]}, got {value!r}")
    return value.strip() if isinstance(value, str) else value


def load_profile(kind: str, path: Path) -> ClusterProfile:
    """A cluster profile (TOML, keys PROFILE_KEYS), checked; InputFileError naming file and key."""
    data = read_toml(Path(path))
    for key in data:
        if key not in PROFILE_KEYS:
            raise InputFileError(str(path), key, unknown_name(key, PROFILE_KEYS, "profile key"))
    for key in REQUIRED_PROFILE_KEYS:
        if key not in data:
            raise InputFileError(str(path), key, f"missing: {PROFILE_KEYS[key]}")
    try:
        settings = {key: _profile_value(key, value) for key, value in data.items()}
    except InputError as error:
        raise from_file(str(path), error) from None
    return ClusterProfile(kind, str(path), settings)


def jobqueue_cluster(profile: ClusterProfile):
    """The dask-jobqueue cluster object of a profile (no job is submitted until it is scaled)."""
    try:
        jobqueue = importlib.import_module("dask_jobqueue")
    except ImportError:
        raise FlagError("--cluster", "needs dask-jobqueue: pip install 'smesim[cluster]'") from None
    return getattr(jobqueue, CLUSTERS[profile.kind])(**profile.cluster_kwargs())


# --- executors ------------------------------------------------------------------------------


class Executor(Protocol):
    """Where chunks run: what `run_sweep` needs of an executor."""

    description: str  # for people: "in this process", "embedded Dask cluster, 2 worker processes, ..."

    def parallelism(self) -> int:
        """How many chunks can run at once (worker threads)."""
        ...

    def results(
        self, next_chunk: Callable[[], Chunk | None], on_wait: Callable[[str, bool], None] | None = None
    ) -> Iterator[ChunkResult]:
        """Run the chunks `next_chunk` hands out (None: no more) and yield each result as it arrives;
        while waiting, tell `on_wait(text, urgent)` what the cluster is doing every few seconds
        (`urgent`: an event to show at once, such as new workers being started)."""
        ...

    def worker_versions(self) -> dict:
        """Package versions of each worker, by worker name."""
        ...


class SerialExecutor:
    """Chunks run here, one after another."""

    description = "in this process"

    def parallelism(self) -> int:
        return 1

    def results(self, next_chunk: Callable[[], Chunk | None], on_wait=None) -> Iterator[ChunkResult]:
        while (chunk := next_chunk()) is not None:
            yield run_chunk(chunk)

    def worker_versions(self) -> dict:
        return {"in-process": versions()}


class WorkersLost(RuntimeError):
    """The cluster has had no worker for too long (and new ones did not come): the sweep stops."""


class Watchdog:
    """Notices a cluster without workers while the driver waits: after `stall_seconds` it asks
    for new workers (`restart`, if the cluster can make them), and after `stall_seconds` more
    (or RESTARTS tries) it gives up with WorkersLost. Reports what it sees to `on_wait`."""

    def __init__(self, count_workers: Callable[[], int], restart, stall_seconds: float, on_wait):
        self.count_workers, self.restart, self.stall_seconds = count_workers, restart, stall_seconds
        self.on_wait = on_wait or (lambda text, urgent: None)
        self.last_result = self.last_check = time.monotonic()
        self.without_since: float | None = None
        self.restarts = 0

    def progressed(self) -> None:
        self.last_result = time.monotonic()
        self.without_since = None

    def waiting(self, running: int) -> None:
        now = time.monotonic()
        if now - self.last_check < CHECK_SECONDS:
            return
        self.last_check = now
        workers = self.count_workers()
        waited = f"last result {now - self.last_result:.0f} s ago"
        if workers:
            self.without_since = None
            self.on_wait(f"{running} chunks on {workers} workers, {waited}", False)
            return
        self.without_since = self.without_since or now
        gone = now - self.without_since
        self.on_wait(f"no workers for {gone:.0f} s ({running} chunks waiting), {waited}", False)
        if gone < self.stall_seconds:
            return
        if self.restart is not None and self.restarts < RESTARTS:
            self.restarts += 1
            self.on_wait(f"no workers for {gone:.0f} s: starting new ones (try {self.restarts} of {RESTARTS})", True)
            self.restart()
            self.without_since = time.monotonic()
            return
        tried = f" and {self.restarts} tries to start new ones" if self.restarts else ""
        raise WorkersLost(
            f"the cluster has had no worker for {gone:.0f} s{tried}; the sweep stopped. Every finished run "
            "is kept: run the same command again to finish the work"
        )


class DaskExecutor:
    """Chunks run on the workers of a Dask client."""

    def __init__(self, client, description: str, expected_threads: int = 0, restart=None, stall_seconds=None):
        self.client = client
        self.description = description
        self.expected_threads = expected_threads  # jobs not started yet still count
        self.restart = restart  # asks the cluster for new workers (None: it cannot)
        self.stall_seconds = DEFAULT_STALL_SECONDS if stall_seconds is None else stall_seconds

    def parallelism(self) -> int:
        return max(sum(self.client.nthreads().values()), self.expected_threads, 1)

    def worker_versions(self) -> dict:
        return dict(self.client.run(versions))

    def results(self, next_chunk: Callable[[], Chunk | None], on_wait=None) -> Iterator[ChunkResult]:
        from distributed import as_completed

        singles: deque[Chunk] = deque()  # runs of chunks that killed their workers, one by one

        def take() -> Chunk | None:
            return singles.popleft() if singles else next_chunk()

        flight = as_completed()
        chunks: dict[str, Chunk] = {}  # by future key
        watchdog = Watchdog(lambda: len(self.client.nthreads()), self.restart, self.stall_seconds, on_wait)
        self._fill(flight, chunks, take)
        while chunks:
            ready = flight.next_batch(block=False)
            if not ready:
                watchdog.waiting(len(chunks))
                time.sleep(POLL_SECONDS)
                continue
            for future in ready:
                if future.status == "pending":  # its result died with its worker: it is computed again
                    flight.add(future)
                    continue
                watchdog.progressed()
                yield from self._collect(future, chunks, singles, flight)
            self._fill(flight, chunks, take)

    @staticmethod
    def _collect(future, chunks: dict[str, Chunk], singles: deque[Chunk], flight) -> Iterator[ChunkResult]:
        """The result of a finished chunk (or its runs one by one, or its error rows); a result
        lost while being fetched puts the chunk back in flight."""
        from distributed.scheduler import KilledWorker

        try:
            result = future.result(timeout=FETCH_SECONDS)
        except TimeoutError:
            flight.add(future)
            return
        except KilledWorker as error:
            chunk = chunks.pop(future.key)
            if len(chunk.runs) > 1:
                singles.extend(chunk.split())
            else:
                yield killed_result(
                    chunk,
                    f"KilledWorker: the run killed its worker process every time it ran (out of memory?): {error}",
                )
        else:
            chunks.pop(future.key)
            yield result
        future.release()  # a finished chunk must not be rerun if its worker dies later

    def _fill(self, flight, chunks: dict[str, Chunk], take: Callable[[], Chunk | None]) -> None:
        while len(chunks) < IN_FLIGHT_PER_THREAD * self.parallelism():
            chunk = take()
            if chunk is None:
                return
            future = self.client.submit(
                run_chunk,
                chunk,
                key=f"smesim-chunk-{chunk.name}-{uuid.uuid4().hex[:8]}",
                pure=False,
                retries=CHUNK_RETRIES,
            )
            chunks[future.key] = chunk
            flight.add(future)


def _connect(client_class, address: str):
    """A client of the scheduler at `address`; one that cannot be reached is bad input."""
    try:
        return client_class(address, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as error:
        raise FlagError(
            "--scheduler", f"cannot reach a Dask scheduler at {address} within {CONNECT_TIMEOUT}: {error}"
        ) from None


@contextmanager
def open_executor(options: ExecutorOptions) -> Iterator[Executor]:
    """The executor the options ask for, started here and stopped on leaving."""
    options.check()
    if options.workers == 0:
        yield SerialExecutor()
        return
    from distributed import Client, LocalCluster

    stall = options.stall_seconds
    if options.scheduler is not None:
        with _connect(Client, options.scheduler) as client:
            yield DaskExecutor(
                client, f"Dask scheduler {options.scheduler}", stall_seconds=stall or QUEUED_STALL_SECONDS
            )
        return
    if options.cluster is not None:
        assert options.profile is not None  # options.check(): --cluster and --profile go together
        profile = load_profile(options.cluster, options.profile)
        with jobqueue_cluster(profile) as cluster:
            cluster.scale(jobs=profile.jobs)
            with Client(cluster) as client:
                yield DaskExecutor(
                    client,
                    f"{options.cluster} jobs ({profile.file})",
                    expected_threads=profile.threads,
                    restart=lambda: _replace_workers(cluster, jobs=profile.jobs),
                    stall_seconds=stall or QUEUED_STALL_SECONDS,
                )
        return
    from experiments.sweeps.worker_setup import IgnoreInterrupts

    workers = options.workers or os.cpu_count() or 1
    with _local_cluster(LocalCluster, workers) as cluster, Client(cluster) as client, _Spares() as spares:
        client.register_plugin(IgnoreInterrupts())
        yield DaskExecutor(
            client,
            f"embedded Dask cluster, {workers} worker processes, dashboard {client.dashboard_link}",
            restart=lambda: spares.start(cluster.scheduler_address, workers),
            stall_seconds=stall or DEFAULT_STALL_SECONDS,
        )


class _Spares:
    """Fresh worker processes for an embedded cluster that lost all of its own (its nannies can
    give up for good when workers die while starting): `dask worker` processes of this Python,
    in their own session (Ctrl-C on the command does not reach them), stopped on leaving."""

    def __init__(self):
        self.processes: list[subprocess.Popen] = []

    def start(self, address: str, count: int) -> None:
        command = [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1"]
        command += ["--host", LOCAL_HOST, "--no-dashboard"]
        for _ in range(count):
            self.processes.append(
                subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
            )

    def __enter__(self) -> _Spares:
        return self

    def __exit__(self, *exc) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def _local_cluster(cluster_class, workers: int):
    """The embedded cluster; one whose workers cannot start is WorkersLost, not a traceback."""
    try:
        return cluster_class(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host=LOCAL_HOST,
            dashboard_address=f"{LOCAL_HOST}:0",
            silence_logs=logging.CRITICAL,  # worker deaths are reported by the watchdog, not tracebacks
        )
    except (RuntimeError, OSError, TimeoutError) as error:
        raise WorkersLost(f"the embedded Dask cluster did not start ({error}); nothing was run") from None


def _replace_workers(cluster, **size) -> None:
    """Let go of a batch cluster's workers (ended jobs included) and submit new ones."""
    cluster.scale(0)
    cluster.scale(**size)
