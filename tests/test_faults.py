"""Fault injection on real processes and real files: damaged stores, two writers, a stale lock,
a full disk, Ctrl-C, bad surroundings. Every damaged or doubly written store must end, after a
resume, identical to an undisturbed sweep (each run once, the same values), checked by replay.
Real Dask clusters losing their workers: tests/test_sweep_dask.py."""

import contextlib
import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers import TIMEOUT, assert_same_results, recorded_chunks, wait_for

from experiments import cli
from experiments.errors import BadInput
from experiments.inputs.sweep_spec import load_sweep_spec
from experiments.sweeps.executors import SerialExecutor
from experiments.sweeps.merge import merge_shards
from experiments.sweeps.status import sweep_status
from experiments.sweeps.store import LOCK_FILE, PARTS_FILE, Store, read_runs
from experiments.sweeps.sweep import run_sweep

pytestmark = [pytest.mark.integration, pytest.mark.faults]

# 2 policies x 4 inflation rates x 3 replicates = 24 runs of 3 months at scale 0.02.
SPEC = """
description = "Fault tests"
seed = 21
months = 3
scale = 0.02
replications = 3
[policies.baseline]
[policies.clinics]
scenario = "lever_clinics"
[factors."uncertainties.inflation_rate"]
values = [0.3, 0.4, 0.5, 0.55]
"""
RUNS = 24


def sweep_here(spec_path: Path, out: Path, **kwargs):
    return run_sweep(load_sweep_spec(spec_path), out, executor=SerialExecutor(), progress=False, **kwargs)


def smesim(*args) -> int:
    return cli.main([str(a) for a in args])


def command(*args) -> list[str]:
    return [sys.executable, "-m", "experiments.cli", *map(str, args)]


def records(out: Path) -> list[dict]:
    return Store(out).records() or []


@pytest.fixture(scope="module")
def spec_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("spec") / "faults.toml"
    path.write_text(SPEC, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def reference(spec_path, tmp_path_factory) -> Path:
    """An undisturbed sweep, one chunk per run."""
    out = tmp_path_factory.mktemp("reference") / "out"
    assert sweep_here(spec_path, out, chunk_seconds=1e-6).run_now == RUNS
    return out


def assert_healed(spec_path: Path, reference: Path, out: Path, capsys) -> None:
    """A resume makes the store the undisturbed sweep's, and replay agrees with every run."""
    assert smesim("sweep", spec_path, "--out", out, "--workers", 0) == 0
    assert_same_results(reference, out)
    capsys.readouterr()
    assert smesim("replay", out, "--runs", "all") == 0, capsys.readouterr()
    assert "DAMAGED" not in sweep_status(out)


# --- damaged stores ---------------------------------------------------------------------------------


def flip_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x20
    path.write_bytes(bytes(data))


def first_part(out: Path, folder: str) -> Path:
    return out / folder / f"part-{records(out)[0]['chunk']}.parquet"


DAMAGE = {
    "a flipped byte in a runs file": lambda out: flip_byte(first_part(out, "runs")),
    "a flipped byte in a series file": lambda out: flip_byte(first_part(out, "series")),
    "a truncated runs file": lambda out: first_part(out, "runs").write_bytes(first_part(out, "runs").read_bytes()[:99]),
    "a deleted series file": lambda out: first_part(out, "series").unlink(),
    "a deleted runs file": lambda out: first_part(out, "runs").unlink(),
    "an edited checksum": lambda out: (out / PARTS_FILE).write_text(
        (out / PARTS_FILE).read_text("utf-8").replace('"sha256": "', '"sha256": "0', 1), encoding="utf-8"
    ),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_store_is_named_by_every_reader_and_healed_by_a_resume(
    spec_path, reference, tmp_path, capsys, damage
):
    out = tmp_path / "out"
    merge_shards(out, [reference])
    DAMAGE[damage](out)
    status = sweep_status(out)
    assert "DAMAGED: 1 damaged chunk(s)" in status and f"{RUNS - 1} of {RUNS} runs done" in status
    readers = (["compare", out], ["sensitivity", out], ["report", out], ["replay", out], ["merge", tmp_path / "m", out])
    for reader in readers:
        capsys.readouterr()
        assert smesim(*reader) == 2, reader
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "damaged chunk" in err and records(reference)[0]["chunk"] in err, reader
    with pytest.raises(BadInput, match="damaged chunk"):
        read_runs(out)
    assert_healed(spec_path, reference, out, capsys)
    assert list((out / "damaged").rglob("*.parquet")) or damage.startswith("a deleted")


def test_a_damaged_line_of_the_record_is_named_and_healed(spec_path, reference, tmp_path, capsys):
    out = tmp_path / "out"
    merge_shards(out, [reference])
    lines = (out / PARTS_FILE).read_text("utf-8").splitlines()
    lines[3] = lines[3][:40]
    (out / PARTS_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert smesim("compare", out) == 2
    assert "parts.jsonl: line 4: damaged" in capsys.readouterr().err
    assert_healed(spec_path, reference, out, capsys)


def test_a_store_two_old_drivers_wrote_with_other_chunks_keeps_each_run_once(spec_path, reference, tmp_path, capsys):
    """What a second driver without the lock left: the same runs again, in bigger chunks."""
    out, other = tmp_path / "out", tmp_path / "other"
    merge_shards(out, [reference])
    sweep_here(spec_path, other, chunk_seconds=1e6)  # four chunks of six runs
    chunk = records(other)[0]
    for folder in ("series", "runs"):
        name = f"part-{chunk['chunk']}.parquet"
        shutil.copyfile(other / folder / name, out / folder / name)
    with (out / PARTS_FILE).open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(chunk) + "\n")
    assert "repeats 6 run(s) another chunk holds" in sweep_status(out)
    assert smesim("compare", out) == 2
    assert "written twice" in capsys.readouterr().err
    assert_healed(spec_path, reference, out, capsys)


def test_resume_retries_failed_runs_only_when_asked(spec_path, reference, tmp_path, capsys):
    out = tmp_path / "out"
    merge_shards(out, [reference])
    table = pq.read_table(first_part(out, "runs"))
    failed = table.set_column(table.schema.get_field_index("status"), "status", pa.array(["error"] * table.num_rows))
    Store(out).write_chunk(records(out)[0]["chunk"], failed, pq.read_table(first_part(out, "series")))
    assert sweep_here(spec_path, out).run_now == 0  # a resume keeps error rows
    assert (read_runs(out)["status"] == "error").sum() == 1
    capsys.readouterr()
    assert smesim("sweep", spec_path, "--out", out, "--workers", 0, "--retry-errors") == 0
    assert "1 run now" in capsys.readouterr().out
    assert_same_results(reference, out)


# --- one writer -------------------------------------------------------------------------------------


def driver_started(spec_path: Path, out: Path) -> subprocess.Popen:
    """A sweep in its own process, one chunk a run, once it has recorded two chunks."""
    driver = subprocess.Popen(
        command("sweep", spec_path, "--out", out, "--workers", 0, "--chunk-seconds", 1e-6),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for(lambda: recorded_chunks(out) >= 2, "the driver's first chunks", driver)
    return driver


def test_a_second_driver_is_refused_naming_the_first_and_the_first_finishes(spec_path, reference, tmp_path, capsys):
    out = tmp_path / "out"
    first = driver_started(spec_path, out)
    try:
        for second in (
            ["sweep", spec_path, "--out", out, "--workers", 0, "--chunk-seconds", 1e6],
            ["sweep", spec_path, "--out", out, "--workers", 0, "--no-resume"],
            ["merge", out, reference],
        ):
            assert smesim(*second) == 2
            err = capsys.readouterr().err
            assert err.count("\n") == 1 and "another smesim is writing here" in err and f"pid {first.pid}" in err
        assert first.wait(timeout=TIMEOUT) == 0
    finally:
        first.kill()
    assert not (out / LOCK_FILE).exists()
    assert_healed(spec_path, reference, out, capsys)


def test_a_killed_drivers_lock_is_taken_over(spec_path, reference, tmp_path, capsys):
    out = tmp_path / "out"
    driver = driver_started(spec_path, out)
    driver.kill()
    driver.wait(timeout=30)
    assert json.loads((out / LOCK_FILE).read_text("utf-8"))["pid"] == driver.pid  # left behind
    assert_healed(spec_path, reference, out, capsys)
    taken = json.loads((out / "manifest.json").read_text("utf-8"))["sessions"][-1]["lock_taken_over"]
    assert taken["pid"] == driver.pid


# --- surroundings -----------------------------------------------------------------------------------


@contextlib.contextmanager
def small_filesystem(path: Path, size: str):
    """A tmpfs of `size` at `path` (None where this machine cannot mount one)."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True)
    try:
        yield path if mounted.returncode == 0 else None
    finally:
        if mounted.returncode == 0:
            subprocess.run(["umount", "-l", str(path)], check=False)


def test_a_full_disk_is_one_line_and_exit_2_and_the_sweep_resumes_exactly(spec_path, reference, tmp_path, capsys):
    """On a 3 MB tmpfs where the machine allows mounting (it fills mid-sweep); else under a 5 KB
    file-size limit (the sweep fails at its first file, the policies table)."""
    with small_filesystem(tmp_path / "small", "3m") as small:
        if small is not None:
            out = small / "out"
            (small / "filler").write_bytes(b"\0" * (3 * 2**20 - 300_000))  # leaves room for a few chunks
            limit = {}
        else:
            out = tmp_path / "out"  # every file is small, so the first one over 5 KB fails, at the start
            limit = {"preexec_fn": lambda: _limit_file_size(5_000)}
        full = subprocess.run(
            command("sweep", spec_path, "--out", out, "--workers", 0, "--chunk-seconds", 1e-6),
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            **limit,
        )
        assert full.returncode == 2, full.stderr
        last = full.stderr.splitlines()[-1]  # after the progress lines
        assert "Traceback" not in full.stderr and last.startswith("smesim: error: ") and str(out) in last
        assert "No space left on device" in last or "File too large" in last
        done = len(read_runs(out))
        assert (0 < done < RUNS) if small is not None else done == 0  # what was written is complete, verified
        copy = tmp_path / "copy"
        if out.exists():
            shutil.copytree(out, copy)
    assert_healed(spec_path, reference, copy, capsys)


def _limit_file_size(size: int) -> None:
    import resource

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write beyond the limit fails (EFBIG) instead of killing
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))


def test_ctrl_c_during_start_up_is_one_line_and_exit_130(tmp_path):
    process = subprocess.Popen(
        command("sweep", "sobol_uncertainties", "--out", tmp_path / "out", "--workers", 0),
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(0.3)  # still importing
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    # 130, or ended by the signal itself (-2) after the message: a shell shows both as 130
    assert process.returncode in (130, -signal.SIGINT) and "Traceback" not in err and err.count("\n") == 1, err
    assert err.startswith("smesim: interrupted")


@pytest.mark.parametrize(
    "out, cause",
    [
        ("a_file/out", "Not a directory"),
        ("", "got an empty one"),
    ],
)
def test_an_out_the_surroundings_refuse_is_one_line_and_exit_2(spec_path, tmp_path, capsys, out, cause):
    (tmp_path / "a_file").write_text("mine", encoding="utf-8")
    target = str(tmp_path / out) if out else ""
    for args in (["sweep", spec_path, "--workers", 0], ["run", "baseline", "--months", 1, "--scale", 0.02]):
        assert smesim(*args, "--out", target) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and cause in err, err
    assert (tmp_path / "a_file").read_text("utf-8") == "mine"


def test_a_read_only_file_system_is_one_line_and_exit_2(spec_path, tmp_path, capsys):
    target = tmp_path / "ro"
    target.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(target)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("this machine cannot mount a read-only file system")
    try:
        assert smesim("sweep", spec_path, "--out", target / "out", "--workers", 0) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Read-only file system" in err and "--out" in err
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False)


def test_status_counts_an_interrupted_session_until_its_last_chunk(spec_path, reference, tmp_path):
    out = tmp_path / "out"
    merge_shards(out, [reference])
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    manifest["sessions"] = [{"started": "2026-01-01T00:00:00+00:00"}]  # interrupted: no "finished"
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    lines = [json.loads(line) for line in (out / PARTS_FILE).read_text("utf-8").splitlines()]
    for record in lines:
        record.update(session=0, at="2026-01-01T00:00:30+00:00")
    (out / PARTS_FILE).write_text("".join(json.dumps(r) + "\n" for r in lines), encoding="utf-8")
    assert "1 session over 30 s, 1 interrupted or running" in sweep_status(out)  # not until the files' times
