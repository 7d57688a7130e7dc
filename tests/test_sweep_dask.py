"""Sweeps on real Dask clusters: a worker killed mid-sweep, the whole sweep killed and resumed
with another chunk size, an external scheduler with its own workers. Every case must give the
same runs and series as an undisturbed sweep, each run exactly once. And a run that kills its
worker every time is found by splitting its chunk, and recorded as an error row."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import dask
import numpy as np
import pytest
from distributed import Client, LocalCluster
from helpers import TIMEOUT, assert_same_results, kill_group, recorded_chunks, wait_for

from experiments import cli
from experiments.inputs.sweep_spec import load_sweep_spec
from experiments.runs.adapter import run_model
from experiments.sweeps.chunk import Chunk
from experiments.sweeps.design import RunPlan
from experiments.sweeps.executors import DaskExecutor, SerialExecutor
from experiments.sweeps.store import read_runs
from experiments.sweeps.sweep import run_sweep
from simulation import INDICATORS

pytestmark = pytest.mark.integration

# 2 policies x 3 inflation rates x 2 idling rates x 6 replicates = 72 runs of 12 months at a
# tenth of the population (about 0.08 s each); the 36 at idling_rate 0.001 are error rows.
SPEC = """
description = "Dask tests"
seed = 5
months = 6
scale = 0.05
replications = 6
[policies.baseline]
[policies.clinics]
scenario = "lever_clinics"
[factors."uncertainties.inflation_rate"]
values = [0.3, 0.4, 0.55]
[factors.idling_rate]
values = [0.0045, 0.001]
"""
RUNS = 72
DASK = str(Path(sys.executable).with_name("dask"))
QUIET = {"start_new_session": True, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}


def finished_files(out: Path) -> int:
    folder = out / "runs"
    return len([p for p in folder.iterdir() if not p.name.startswith(".")]) if folder.is_dir() else 0


@pytest.fixture(scope="module")
def spec_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("spec") / "dask_tests.toml"
    path.write_text(SPEC, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def executor():
    """A real embedded cluster: two worker processes, one thread each (as `smesim sweep --workers 2`)."""
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster,
        Client(cluster) as client,
    ):
        yield DaskExecutor(client, "test cluster, 2 worker processes")


@pytest.fixture(scope="module")
def reference(spec_path, executor, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("reference") / "out"
    report = run_sweep(load_sweep_spec(spec_path), out, executor=executor, progress=False)
    assert report.run_now == RUNS and report.errors_now == RUNS // 2
    return out


def test_runs_on_workers_equal_the_model_run_here(spec_path, reference):
    spec = load_sweep_spec(spec_path)
    runs = read_runs(reference)
    assert len(runs) == RUNS and runs["run_id"].is_unique and runs["worker"].nunique() == 2
    for _, row in runs[runs["status"] == "ok"].iloc[[0, 7, 17]].iterrows():
        levers = {
            f"levers.{lever}.{name}": value
            for lever, settings in spec.policies[row["policy"]].to_dict().items()
            for name, value in settings.items()
        }
        here = run_model(
            {**levers, **{f.key: row[f.key] for f in spec.factors}},
            seed=np.random.SeedSequence(int(row["seed"])),
            months=spec.months,
            scale=spec.scale,
            base=spec.base,
            outcomes=INDICATORS,
        )
        assert here == {name: row[name] for name in INDICATORS}


def test_two_workers_give_what_one_process_gives(spec_path, reference, tmp_path):
    report = run_sweep(load_sweep_spec(spec_path), tmp_path / "here", executor=SerialExecutor(), progress=False)
    assert report.run_now == RUNS
    assert_same_results(reference, tmp_path / "here")


def test_a_worker_killed_mid_sweep_loses_and_repeats_nothing(spec_path, executor, reference, tmp_path):
    out = tmp_path / "out"
    pids = list(executor.client.run(os.getpid).values())
    killed_at = []

    def kill_one_worker():
        killed_at.append(wait_for(lambda: finished_files(out) >= 4, "the first runs"))
        os.kill(pids[0], signal.SIGKILL)

    killer = threading.Thread(target=kill_one_worker, daemon=True)
    killer.start()
    report = run_sweep(load_sweep_spec(spec_path), out, executor=executor, chunk_seconds=1e-6, progress=False)
    killer.join(timeout=TIMEOUT)
    assert killed_at and killed_at[0] < RUNS, "the worker was killed after the sweep had finished"
    assert report.run_now == RUNS
    assert_same_results(reference, out)  # every run exactly once, the same values
    assert pids[0] not in executor.client.run(os.getpid).values()


def test_a_killed_sweep_resumes_with_another_chunk_size(spec_path, executor, reference, tmp_path):
    out = tmp_path / "out"
    command = [
        sys.executable,
        "-m",
        "experiments.cli",
        "sweep",
        str(spec_path),
        "--out",
        str(out),
        "--workers",
        "2",
        "--chunk-seconds",
        "0.000001",
    ]
    sweep = subprocess.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: finished_files(out) >= 6, "the first runs", sweep)
    finally:
        kill_group(sweep)  # the driver and its cluster's workers
    done = len(read_runs(out))
    assert 0 < done < RUNS, "the sweep was not killed mid-way"
    report = run_sweep(load_sweep_spec(spec_path), out, executor=executor, chunk_seconds=30.0, progress=False)
    assert report.done_before == done and report.run_now == RUNS - done
    assert_same_results(reference, out)
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert len(manifest["sessions"]) == 2 and "finished" not in manifest["sessions"][0]


def start_scheduler(tmp_path: Path, quiet: dict) -> tuple[subprocess.Popen, str]:
    """`dask scheduler` on localhost as its own process, and its address."""
    address_file = tmp_path / "scheduler.json"
    command = [DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--dashboard-address", ":0"]
    scheduler = subprocess.Popen([*command, "--scheduler-file", str(address_file)], **quiet)
    return scheduler, wait_for(lambda: address_file.exists() and _address(address_file), "the scheduler", scheduler)


@pytest.fixture
def external_scheduler(tmp_path):
    """`dask scheduler` and `dask worker --nworkers 2 --nthreads 1` as separate processes."""
    scheduler, address = start_scheduler(tmp_path, QUIET)
    processes = [scheduler]
    try:
        processes.append(
            subprocess.Popen([DASK, "worker", address, "--nworkers", "2", "--nthreads", "1", "--no-dashboard"], **QUIET)
        )
        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=TIMEOUT)
        yield address
    finally:
        for process in reversed(processes):
            kill_group(process)


def _address(path: Path) -> str | None:
    try:
        return json.loads(path.read_text("utf-8")).get("address")
    except json.JSONDecodeError:  # still being written
        return None


def test_an_external_scheduler_gives_the_same_results(spec_path, reference, external_scheduler, tmp_path, capsys):
    out = tmp_path / "out"
    assert (
        cli.main(
            ["sweep", str(spec_path), "--out", str(out), "--scheduler", external_scheduler, "--chunk-seconds", "0.5"]
        )
        == 0
    )
    assert f"Dask scheduler {external_scheduler}" in capsys.readouterr().out
    assert_same_results(reference, out)
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert len(manifest["versions"]["workers"]) == 2


def test_an_unreachable_scheduler_is_bad_input_and_writes_nothing(spec_path, tmp_path, capsys, monkeypatch):
    from experiments.sweeps import executors

    monkeypatch.setattr(executors, "CONNECT_TIMEOUT", "2s")  # the real timeout is 20 s; the behaviour is the same
    with socket.socket() as s:  # a port with nothing listening
        s.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{s.getsockname()[1]}"
    out = tmp_path / "out"
    started = time.monotonic()
    assert cli.main(["sweep", str(spec_path), "--out", str(out), "--scheduler", address]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("smesim: error:") and "--scheduler" in err[-1] and address in err[-1]
    assert time.monotonic() - started < 30
    assert not out.exists()  # nothing written: the scheduler is reached before the results directory is made


# A run the model accepts but that its worker cannot hold: 100,000 applications a month at full
# scale (300,000 new units in three months) need about 640 MB, beyond a 500 MB worker, whose
# nanny kills it; the other run needs about 330 MB.
MEMORY_HOG = """
description = "A run that kills its worker"
seed = 1
months = 3
scale = 1.0
[factors.applications_per_month]
values = [1600, 1e5]
"""


def test_a_run_that_kills_its_worker_is_found_and_recorded_as_an_error(tmp_path):
    spec = load_sweep_spec(write_text(tmp_path / "hog.toml", MEMORY_HOG))
    good, hog = RunPlan(spec).runs
    chunks = iter([Chunk(spec, (good, hog))])
    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 0}),
        LocalCluster(n_workers=1, threads_per_worker=1, memory_limit="500MB", dashboard_address=":0") as cluster,
        Client(cluster) as client,
    ):
        results = list(DaskExecutor(client, "one small worker").results(lambda: next(chunks, None)))
    assert [r.runs.num_rows for r in results] == [1, 1]  # the chunk was split and each run ran alone
    rows = {row["run_id"]: row for r in results for row in r.runs.to_pylist()}
    assert rows[good.run_id]["status"] == "ok"
    assert rows[hog.run_id]["status"] == "error" and "KilledWorker" in rows[hog.run_id]["error"]


def write_text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# --- liveness and interrupts ----------------------------------------------------------------------


def sweep_command(spec_path: Path, out: Path, *flags) -> list[str]:
    return [sys.executable, "-m", "experiments.cli", "sweep", str(spec_path), "--out", str(out), *map(str, flags)]


@pytest.mark.faults
def test_ctrl_c_on_a_dask_sweep_is_one_line_and_the_sweep_resumes(spec_path, executor, reference, tmp_path):
    out = tmp_path / "out"
    sweep = subprocess.Popen(
        sweep_command(spec_path, out, "--workers", 2, "--chunk-seconds", 1e-6),
        start_new_session=True,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: recorded_chunks(out) >= 2, "the first runs", sweep)
        os.killpg(sweep.pid, signal.SIGINT)  # as a terminal does: to the driver and its workers
        _, err = sweep.communicate(timeout=TIMEOUT)
    finally:
        kill_group(sweep)
    assert sweep.returncode == 130 and "Traceback" not in err, err
    assert err.splitlines()[-1].startswith("smesim: interrupted") and len(err.splitlines()) <= 3, err
    run_sweep(load_sweep_spec(spec_path), out, executor=executor, progress=False)
    assert_same_results(reference, out)


@pytest.fixture
def scheduler_without_workers(tmp_path):
    scheduler, address = start_scheduler(tmp_path, QUIET)
    try:
        yield address
    finally:
        kill_group(scheduler)


@pytest.mark.faults
def test_a_cluster_without_workers_stops_the_sweep_with_a_message(
    spec_path, scheduler_without_workers, tmp_path, capsys
):
    out = tmp_path / "out"
    started = time.monotonic()
    code = cli.main(
        ["sweep", str(spec_path), "--out", str(out), "--scheduler", scheduler_without_workers, "--stall-seconds", "10"]
    )
    assert code == 1 and time.monotonic() - started < 60
    err = capsys.readouterr().err.strip().splitlines()
    assert "has had no worker for" in err[-1] and "run the same command again" in err[-1]
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert "finished" not in manifest["sessions"][-1]  # resumable: nothing recorded as done


@pytest.mark.faults
def test_an_embedded_cluster_that_lost_every_worker_gets_new_ones(spec_path, reference, tmp_path):
    from experiments.sweeps.executors import ExecutorOptions, open_executor

    out = tmp_path / "out"
    with open_executor(ExecutorOptions(workers=2, stall_seconds=10)) as running:
        running.client.cluster.scale(0)  # every worker gone, and the cluster will not make new ones
        wait_for(lambda: not running.client.nthreads(), "the workers to go")
        running.client.cluster.scale = lambda *a, **k: None
        report = run_sweep(load_sweep_spec(spec_path), out, executor=running, progress=False)
    assert report.run_now == RUNS
    assert_same_results(reference, out)


@pytest.mark.faults
def test_a_storm_of_worker_kills_ends_and_loses_nothing(spec_path, executor, reference, tmp_path):
    """The oldest worker process killed every 2 s for 20 s: the sweep finishes, or stops saying
    so; a resume that retries the runs recorded as killing their workers makes it the undisturbed
    sweep (each run once, the same values)."""
    out = tmp_path / "out"
    sweep = subprocess.Popen(
        sweep_command(spec_path, out, "--workers", 3, "--chunk-seconds", 0.3, "--stall-seconds", 10),
        start_new_session=True,
        stderr=subprocess.PIPE,
        text=True,
    )
    kills = 0
    try:
        wait_for(lambda: recorded_chunks(out) >= 1, "the first runs", sweep)
        storm_ends = time.monotonic() + 20
        while sweep.poll() is None and time.monotonic() < storm_ends:
            oldest = subprocess.run(
                ["pgrep", "-o", "-f", "spawn_main", "-P", str(sweep.pid)], capture_output=True, text=True
            ).stdout.split()
            if oldest:
                os.kill(int(oldest[0]), signal.SIGKILL)
                kills += 1
            time.sleep(2)
        _, err = sweep.communicate(timeout=TIMEOUT)  # ends by itself, or this fails
    finally:
        kill_group(sweep)
    assert kills >= 2 and "Traceback" not in err and sweep.returncode in (0, 1), err
    if sweep.returncode == 1:
        assert "run the same command again" in err.splitlines()[-1]
    runs = read_runs(out)
    wrong = runs[(runs["status"] == "error") & ~runs["error"].str.contains("idling_rate|KilledWorker")]
    assert wrong.empty, wrong["error"].tolist()
    run_sweep(load_sweep_spec(spec_path), out, executor=executor, progress=False, retry_errors=True)
    assert_same_results(reference, out)


def listening_hosts(port: int) -> set[str]:
    """The local addresses that listen on `port` (Linux /proc/net/tcp*): "127.0.0.1", "0.0.0.0", ..."""
    hosts = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                hosts.add(socket.inet_ntoa(bytes.fromhex(address)[::-1]) if len(address) == 8 else address)
    return hosts


def test_the_embedded_cluster_listens_on_localhost_only():
    from urllib.parse import urlparse

    from experiments.sweeps.executors import ExecutorOptions, open_executor

    with open_executor(ExecutorOptions(workers=1)) as running:
        scheduler = urlparse(running.client.scheduler.address)
        dashboard = urlparse(running.client.dashboard_link)
        assert scheduler.hostname == dashboard.hostname == "127.0.0.1"
        assert f"dashboard http://127.0.0.1:{dashboard.port}/" in running.description
        for port in (scheduler.port, dashboard.port):
            assert listening_hosts(port) == {"127.0.0.1"}
