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
"""

from __future__ import annotations

import importlib
import logging
import os
import re
import tomllib
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from experiments.errors import FlagError, InputFileError, from_file, unknown_name
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
    "load_profile",
    "open_executor",
    "versions",
]

IN_FLIGHT_PER_THREAD = 4
CHUNK_RETRIES = 2  # exceptions raised by a chunk outside its runs (infrastructure), not worker deaths
CLUSTERS = {"slurm": "SLURMCluster", "pbs": "PBSCluster"}
CONNECT_TIMEOUT = "20s"
SWEEP_PACKAGES = ("dask", "distributed")


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

    def check(self) -> ExecutorOptions:
        """Refuse combinations that do not make sense, naming the flag."""
        if self.workers is not None and (isinstance(self.workers, bool) or self.workers < 0):
            raise FlagError("--workers", f"must be a whole number >= 0 (0: in this process), got {self.workers}")
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
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise InputFileError(str(path), None, f"cannot read the cluster profile: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise InputFileError(str(path), None, f"not valid TOML: {error}") from None
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

    def results(self, next_chunk: Callable[[], Chunk | None]) -> Iterator[ChunkResult]:
        """Run the chunks `next_chunk` hands out (None: no more) and yield each result as it arrives."""
        ...

    def worker_versions(self) -> dict:
        """Package versions of each worker, by worker name."""
        ...


class SerialExecutor:
    """Chunks run here, one after another."""

    description = "in this process"

    def parallelism(self) -> int:
        return 1

    def results(self, next_chunk: Callable[[], Chunk | None]) -> Iterator[ChunkResult]:
        while (chunk := next_chunk()) is not None:
            yield run_chunk(chunk)

    def worker_versions(self) -> dict:
        return {"in-process": versions()}


class DaskExecutor:
    """Chunks run on the workers of a Dask client."""

    def __init__(self, client, description: str, expected_threads: int = 0):
        self.client = client
        self.description = description
        self.expected_threads = expected_threads  # jobs not started yet still count

    def parallelism(self) -> int:
        return max(sum(self.client.nthreads().values()), self.expected_threads, 1)

    def worker_versions(self) -> dict:
        return dict(self.client.run(versions))

    def results(self, next_chunk: Callable[[], Chunk | None]) -> Iterator[ChunkResult]:
        from distributed import as_completed
        from distributed.scheduler import KilledWorker

        singles: deque[Chunk] = deque()  # runs of chunks that killed their workers, one by one

        def take() -> Chunk | None:
            return singles.popleft() if singles else next_chunk()

        flight = as_completed()
        chunks: dict[str, Chunk] = {}  # by future key
        self._fill(flight, chunks, take)
        for future in flight:
            chunk = chunks.pop(future.key)
            try:
                result = future.result()
            except KilledWorker as error:
                if len(chunk.runs) > 1:
                    singles.extend(chunk.split())
                else:
                    yield killed_result(
                        chunk,
                        f"KilledWorker: the run killed its worker process every time it ran (out of memory?): {error}",
                    )
            else:
                yield result
            finally:
                future.release()  # a finished chunk must not be rerun if its worker dies later
            self._fill(flight, chunks, take)

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

    if options.scheduler is not None:
        with _connect(Client, options.scheduler) as client:
            yield DaskExecutor(client, f"Dask scheduler {options.scheduler}")
        return
    if options.cluster is not None:
        assert options.profile is not None  # options.check(): --cluster and --profile go together
        profile = load_profile(options.cluster, options.profile)
        with jobqueue_cluster(profile) as cluster:
            cluster.scale(jobs=profile.jobs)
            with Client(cluster) as client:
                yield DaskExecutor(client, f"{options.cluster} jobs ({profile.file})", expected_threads=profile.threads)
        return
    workers = options.workers or os.cpu_count() or 1
    with (
        LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0", silence_logs=logging.ERROR
        ) as cluster,
        Client(cluster) as client,
    ):
        yield DaskExecutor(
            client, f"embedded Dask cluster, {workers} worker processes, dashboard {client.dashboard_link}"
        )
