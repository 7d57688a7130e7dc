"""Sweeps in this process (--workers 0): the store's files and schemas, error rows, resume,
refusals, shards and merge, status, executor options and cluster profiles. The same runs on
real Dask clusters, with workers and whole sweeps killed: tests/test_sweep_dask.py."""

import io
import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from helpers import assert_same_results

from experiments import cli
from experiments.errors import BadInput
from experiments.inputs.sweep_spec import load_sweep_spec
from experiments.runs.adapter import run_model
from experiments.runs.progress import SweepProgress
from experiments.sweeps.design import RunPlan
from experiments.sweeps.executors import ExecutorOptions, SerialExecutor, jobqueue_cluster, load_profile
from experiments.sweeps.merge import merge_shards
from experiments.sweeps.status import sweep_status
from experiments.sweeps.store import SERIES_SCHEMA, Store, read_policies, read_runs, read_series, runs_schema
from experiments.sweeps.sweep import Shard, run_sweep
from simulation import INDICATORS

# 3 x 2 design points x 2 policies x 2 replicates = 24 runs; idling_rate 0.001 is below the
# young units' excess hazard, so the model refuses those 12 runs at construction: error rows.
SPEC = """
description = "Sweep tests: two policies, inflation, an idling rate the model refuses"
seed = 11
months = 3
scale = 0.02
replications = 2
[policies.baseline]
[policies.clinics]
scenario = "lever_clinics"
[factors."uncertainties.inflation_rate"]
values = [0.3, 0.4, 0.55]
[factors.idling_rate]
values = [0.0045, 0.001]
[goals.exports]
at_least = 20e9
month = 3
"""


def write_spec(tmp_path: Path, text: str = SPEC, name: str = "tests") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def sweep_here(spec_path: Path, out: Path, **kwargs):
    return run_sweep(load_sweep_spec(spec_path), out, executor=SerialExecutor(), progress=False, **kwargs)


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> tuple[Path, Path]:
    """The spec file and one complete sweep of it, in one chunk per run."""
    folder = tmp_path_factory.mktemp("reference")
    spec_path = write_spec(folder)
    sweep_here(spec_path, folder / "out", chunk_seconds=1e-6)
    return spec_path, folder / "out"


def run_cli(*args) -> int:
    return cli.main([str(a) for a in args])


# --- the store ------------------------------------------------------------------------------


def test_a_sweep_writes_every_run_with_explicit_schemas(reference):
    spec_path, out = reference
    spec = load_sweep_spec(spec_path)
    runs = read_runs(out)
    assert len(runs) == spec.runs_total == 24 and runs["run_id"].is_unique
    assert list(runs.columns) == [
        *runs_schema([]).names[:10],
        "uncertainties.inflation_rate",
        "idling_rate",
        *INDICATORS,
    ]
    for part in (out / "runs").iterdir():
        assert pq.read_schema(part).remove_metadata() == runs_schema([f.key for f in spec.factors])
    for part in (out / "series").iterdir():
        assert pq.read_schema(part).remove_metadata() == SERIES_SCHEMA
    assert sorted(p.name for p in (out / "runs").iterdir()) == sorted(p.name for p in (out / "series").iterdir())
    series = read_series(out)
    assert len(series) == (runs["status"] == "ok").sum() * 4 and set(series["month"]) == {0, 1, 2, 3}
    assert set(runs["design_block"]) == {""} and set(runs["worker"]).pop().count(":") == 1


def test_the_manifest_records_spec_seeds_versions_and_sessions(reference):
    spec_path, out = reference
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    spec = load_sweep_spec(spec_path)
    assert manifest["spec_text"] == spec_path.read_text("utf-8") and manifest["spec_sha256"] == spec.sha256
    assert manifest["fingerprint"] == spec.fingerprint and manifest["root_seed"] == 11
    assert list(manifest["spec"]["factors"]) == ["uncertainties.inflation_rate", "idling_rate"]
    assert manifest["spec"]["goals"]["exports"]["at_least"] == 20e9
    assert manifest["runs_total"] == 24 and manifest["runs_by_policy"] == {"baseline": 12, "clinics": 12}
    assert {"numpy", "mesa", "dask", "distributed", "smesim"} <= set(manifest["versions"]["client"])
    assert manifest["versions"]["workers"] and "git" in manifest
    (session,) = manifest["sessions"]
    assert session["runs_run"] == 24 and session["errors"] == 12 and "finished" in session


def test_a_stored_run_replays_with_run_model_and_its_seed(reference):
    spec_path, out = reference
    spec = load_sweep_spec(spec_path)
    row = read_runs(out).query("status == 'ok' and policy == 'clinics'").iloc[0]
    levers = {
        f"levers.{lever}.{name}": value
        for lever, settings in spec.policies["clinics"].to_dict().items()
        for name, value in settings.items()
    }
    factors = {f.key: row[f.key] for f in spec.factors}
    replay = run_model(
        {**levers, **factors},
        seed=np.random.SeedSequence(int(row["seed"])),
        months=spec.months,
        scale=spec.scale,
        base=spec.base,
        outcomes=INDICATORS,
    )
    assert replay == pytest.approx({name: row[name] for name in INDICATORS}, nan_ok=True)


def test_a_run_that_raises_is_an_error_row_and_the_sweep_goes_on(reference):
    _, out = reference
    runs = read_runs(out)
    failed = runs[runs["status"] == "error"]
    assert len(failed) == 12 and (failed["idling_rate"] == 0.001).all()
    assert failed["error"].str.contains("InputError: idling_rate: is 0.001, below").all()
    assert failed[list(INDICATORS)].isna().all().all()
    assert not set(failed["run_id"]) & set(read_series(out)["run_id"])
    ok = runs[runs["status"] == "ok"]
    assert ok["error"].isna().all() and ok[list(INDICATORS)].notna().all().all()


def test_policies_share_their_seeds_in_each_world(reference):
    _, out = reference
    runs = read_runs(out)
    seeds = runs.groupby(["uncertainties.inflation_rate", "idling_rate", "replicate"])["seed"].nunique()
    assert (seeds == 1).all() and runs["seed"].nunique() == len(seeds)


# --- resume ---------------------------------------------------------------------------------


def test_results_do_not_depend_on_chunk_size(reference, tmp_path):
    spec_path, out = reference
    sweep_here(spec_path, tmp_path / "big", chunk_seconds=1e6)
    assert len(list((tmp_path / "big" / "runs").iterdir())) < len(list((out / "runs").iterdir()))
    assert_same_results(out, tmp_path / "big")


def test_resume_cleans_leftovers_and_runs_only_what_is_missing(reference, tmp_path):
    spec_path, out = reference
    copy = tmp_path / "copy"
    merge_shards(copy, [out])
    lines = (copy / "parts.jsonl").read_text("utf-8").splitlines()
    unrecorded = [json.loads(line)["chunk"] for line in lines[:5]]  # killed before their records
    (copy / "parts.jsonl").write_text("\n".join(lines[5:]) + '\n{"chunk": "torn', encoding="utf-8")
    for name in unrecorded[:2]:  # killed between the series file and the runs file
        (copy / "runs" / f"part-{name}.parquet").unlink()
    (copy / "runs" / ".part-0000.parquet.4242.tmp").write_bytes(b"half a file")
    (copy / "series" / ".part-0001.parquet.4242.tmp").write_bytes(b"half a file")
    lost_runs = 24 - len(read_runs(copy))
    assert lost_runs == 5  # one run a chunk
    report = sweep_here(spec_path, copy, chunk_seconds=1e6)
    assert (report.done_before, report.run_now) == (24 - lost_runs, lost_runs)
    assert not [p for p in (copy / "runs").iterdir() if p.name.startswith(".")]
    assert_same_results(out, copy)
    manifest = json.loads((copy / "manifest.json").read_text("utf-8"))
    assert len(manifest["sessions"][-1]["repairs"]) == 2 + 5 + 3 and len(manifest["resumed"]) == 1
    again = sweep_here(spec_path, copy)
    assert again.run_now == 0


def test_a_changed_spec_is_refused_and_no_resume_starts_over(reference, tmp_path, capsys):
    out = tmp_path / "out"
    small = write_spec(tmp_path, SPEC.replace("replications = 2", "replications = 1"), "small")
    assert run_cli("sweep", small, "--out", out, "--workers", 0) == 0
    capsys.readouterr()
    changed = write_spec(tmp_path, SPEC.replace("replications = 2", "replications = 1").replace("0.55", "0.5"), "small")
    assert run_cli("sweep", changed, "--out", out, "--workers", 0) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "holds results of a different spec" in error and "--no-resume" in error
    assert run_cli("sweep", changed, "--out", out, "--workers", 0, "--no-resume") == 0
    assert set(read_runs(out)["uncertainties.inflation_rate"]) == {0.3, 0.4, 0.5}


def test_a_comment_does_not_change_the_spec(reference, tmp_path):
    spec_path, out = reference
    copy = tmp_path / "copy"
    merge_shards(copy, [out])
    commented = write_spec(tmp_path, "# a note\n" + spec_path.read_text("utf-8"))
    assert sweep_here(commented, copy).run_now == 0


def test_a_directory_that_is_not_a_sweep_is_not_touched(reference, tmp_path):
    spec_path, _ = reference
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "part-mine.parquet").write_bytes(b"someone's data")
    for resume in (True, False):
        with pytest.raises(BadInput, match="not a sweep directory smesim wrote"):
            sweep_here(spec_path, tmp_path, resume=resume)
    assert (tmp_path / "runs" / "part-mine.parquet").exists()


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change, key",
    [
        (("values = [0.3, 0.4, 0.55]", "values = [0.3, 9]"), 'factors."uncertainties.inflation_rate".values[1]'),
        (("[policies.clinics]", "[policies.clinics]\ncolour = 1"), "policies.clinics.colour"),
        (("scale = 0.02", "scale = 0.0001"), "scale"),
    ],
)
def test_a_bad_spec_exits_2_naming_file_and_key(tmp_path, capsys, change, key):
    bad = write_spec(tmp_path, SPEC.replace(*change), "bad")
    assert run_cli("sweep", bad, "--out", tmp_path / "out", "--workers", 0) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"smesim: error: {bad}: {key}: ") and error.count("\n") == 1
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "flags, key",
    [
        (["--workers", "-1"], "--workers"),
        (["--shard", "4/3"], "--shard"),
        (["--shard", "x"], "--shard"),
        (["--chunk-seconds", "0"], "--chunk-seconds"),
        (["--scheduler", "nowhere"], "--scheduler"),
        (["--cluster", "slurm"], "--profile"),
        (["--workers", "2", "--scheduler", "tcp://h:1"], "--workers"),
    ],
)
def test_bad_flags_exit_2_naming_them(tmp_path, capsys, flags, key):
    assert run_cli("sweep", "quick", "--out", tmp_path / "out", *flags) == 2
    assert f"smesim: error: {key}: " in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


# --- shards, merge, status ------------------------------------------------------------------


@pytest.mark.slow
def test_shards_merged_equal_the_unsharded_sweep(reference, tmp_path, capsys):
    spec_path, out = reference
    shards = [tmp_path / f"shard{i}" for i in (1, 2, 3)]
    for i in (3, 1, 2):  # any order
        assert run_cli("sweep", spec_path, "--shard", f"{i}/3", "--out", shards[i - 1], "--workers", 0) == 0
    plan = RunPlan(load_sweep_spec(spec_path))
    assert set(read_runs(shards[1])["run_id"]) == {r.run_id for r in plan.shard(2, 3)}
    assert "8 of 8 runs" in sweep_status(shards[0]) and "shard 1/3" in sweep_status(shards[0])
    assert run_cli("merge", tmp_path / "merged", *shards) == 0
    assert "24 of 24 runs" in capsys.readouterr().out
    assert_same_results(out, tmp_path / "merged")
    assert run_cli("merge", tmp_path / "merged", shards[0]) == 0  # again: nothing duplicated
    assert_same_results(out, tmp_path / "merged")


def test_merge_refuses_shards_of_different_specs(reference, tmp_path, capsys):
    _, out = reference
    other = write_spec(tmp_path, SPEC.replace("seed = 11", "seed = 12"), "other")
    assert run_cli("sweep", other, "--shard", "1/2", "--out", tmp_path / "other", "--workers", 0) == 0
    assert run_cli("merge", tmp_path / "merged", out, tmp_path / "other") == 2
    assert "another spec" in capsys.readouterr().err


def test_a_shard_directory_resumes_only_as_that_shard(reference, tmp_path, capsys):
    spec_path, _ = reference
    assert run_cli("sweep", spec_path, "--shard", "1/2", "--out", tmp_path / "s", "--workers", 0) == 0
    assert run_cli("sweep", spec_path, "--shard", "2/2", "--out", tmp_path / "s", "--workers", 0) == 2
    assert "holds shard 1/2" in capsys.readouterr().err


def test_status_counts_done_errors_and_left_per_policy(reference, tmp_path, capsys):
    spec_path, out = reference
    assert run_cli("status", out) == 0
    text = capsys.readouterr().out
    assert "24 of 24 runs done (12 errors), 0 left" in text
    assert [line.split()[:4] for line in text.splitlines() if line.startswith(("baseline", "clinics"))] == [
        ["baseline", "6", "6", "0"],
        ["clinics", "6", "6", "0"],
    ]
    assert run_cli("sweep", spec_path, "--shard", "1/3", "--out", tmp_path / "s", "--workers", 0) == 0
    capsys.readouterr()
    assert run_cli("status", tmp_path) == 2
    assert "not a sweep directory" in capsys.readouterr().err


def test_progress_without_a_terminal_is_a_line_per_tenth():
    stream = io.StringIO()
    with SweepProgress("demo", total=20, done=0, stream=stream) as progress:
        for _ in range(20):
            progress.advance(1, 0)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 10 and lines[-1].startswith("demo: 20/20 runs (100%), 0 errors")


def test_waiting_lines_are_throttled_but_an_urgent_one_shows_at_once():
    stream = io.StringIO()
    with SweepProgress("demo", total=20, done=0, stream=stream) as progress:
        progress.waiting("2 chunks on 2 workers, last result 5 s ago")  # within the minute: not shown
        progress.waiting("no workers for 120 s: starting new ones (try 1 of 2)", urgent=True)
    assert stream.getvalue().splitlines() == [
        "demo: 0/20 runs (0%), 0 errors, 0 s; waiting: no workers for 120 s: starting new ones (try 1 of 2)"
    ]


# --- executors and cluster profiles ---------------------------------------------------------

PROFILE = """
queue = "normal"
account = "smes"
cores = 4
memory = "16GB"
walltime = "02:00:00"
jobs = 3
job_extra_directives = ["--constraint=cpu"]
"""


@pytest.mark.parametrize(
    "change, key",
    [
        (("cores = 4", "cores = 0"), "cores"),
        (("jobs = 3", 'jobs = "3"'), "jobs"),
        (('memory = "16GB"', 'memory = "lots"'), "memory"),
        (('walltime = "02:00:00"', 'walltime = "2h"'), "walltime"),
        (("jobs = 3", "jobs = 3\nnodes = 2"), "nodes"),
        (("jobs = 3\n", ""), "jobs"),
        (('["--constraint=cpu"]', '"--constraint=cpu"'), "job_extra_directives"),
    ],
)
def test_a_bad_cluster_profile_is_refused_naming_file_and_key(tmp_path, change, key):
    path = tmp_path / "cluster.toml"
    path.write_text(PROFILE.replace(*change), encoding="utf-8")
    with pytest.raises(BadInput) as caught:
        load_profile("slurm", path)
    assert caught.value.file == str(path) and caught.value.key == key


@pytest.mark.parametrize(
    "kind, directive, lines",
    [
        ("slurm", "#SBATCH", ["-p normal", "-A smes", "--cpus-per-task=4", "-t 02:00:00", "--constraint=cpu"]),
        ("pbs", "#PBS", ["-q normal", "-A smes", "walltime=02:00:00", "--constraint=cpu"]),
    ],
)
def test_a_profile_builds_the_jobqueue_cluster_without_submitting(tmp_path, kind, directive, lines):
    pytest.importorskip("dask_jobqueue")
    path = tmp_path / "cluster.toml"
    path.write_text(PROFILE, encoding="utf-8")
    profile = load_profile(kind, path)
    assert profile.threads == 12
    with jobqueue_cluster(profile) as cluster:
        assert type(cluster).__name__ == {"slurm": "SLURMCluster", "pbs": "PBSCluster"}[kind]
        script = cluster.job_script()
        assert not cluster.workers  # nothing submitted
    directives = [line for line in script.splitlines() if line.startswith(directive)]
    for expected in lines:
        assert any(expected in line for line in directives), (expected, directives)
    assert "--nworkers 4" in script and "--nthreads 1" in script


def test_executor_options_are_checked():
    assert ExecutorOptions(workers=0).check() == ExecutorOptions(workers=0)
    with pytest.raises(BadInput, match="--scheduler or --cluster, not both"):
        ExecutorOptions(scheduler="tcp://h:1", cluster="slurm", profile=Path("p")).check()
    with pytest.raises(BadInput):
        Shard.parse("0/3")
    assert str(Shard.parse(" 2 / 5 ")) == "2/5"


def test_the_store_removes_unrecorded_files_only(tmp_path):
    store = Store(tmp_path)
    table = runs_schema([]).empty_table()
    store.write_chunk("a", table, SERIES_SCHEMA.empty_table())
    (store.series_dir / "part-b.parquet").write_bytes(b"")  # its runs file and record never came
    assert store.repair() == ["removed series/part-b.parquet (never recorded: a killed writer's)"]
    assert (store.series_dir / "part-a.parquet").exists() and [p.name for p in store.check().parts] == ["a"]


SOBOL_SPEC = """
description = "Sobol under the baseline: one factor that matters, one that cannot"
seed = 5
months = 3
scale = 0.02
replications = 2
[design]
kind = "sobol"
samples = 8
[policies.baseline]
[factors."uncertainties.inflation_rate"]
low = 0.2
high = 0.6
[factors."uncertainties.training_sunk_cost_cut"]
low = 0.1
high = 0.6
"""


@pytest.mark.slow
def test_the_rows_of_a_sobol_sample_share_a_seed_so_a_factor_that_cannot_matter_gets_zero(tmp_path, capsys):
    """Training's cut of sunk costs changes nothing without a training budget: A_j and AB:1_j
    are bit-identical runs, so its total index is exactly 0, while inflation's is not."""
    from experiments.analysis.sensitivity import sensitivity

    out = tmp_path / "sobol"
    sweep_here(write_spec(tmp_path, SOBOL_SPEC, "sobol"), out)
    runs = read_runs(out)
    assert runs.groupby(["sample", "replicate"])["seed"].nunique().eq(1).all()  # A, B and AB:i share it
    assert runs.groupby("replicate")["seed"].nunique().eq(8).all()
    table = sensitivity(
        runs, ["uncertainties.inflation_rate", "uncertainties.training_sunk_cost_cut"], "employment", n_bootstrap=50
    ).set_index("factor")
    cannot = table.loc["uncertainties.training_sunk_cost_cut"]
    assert cannot["total_order"] == 0.0 and cannot["total_order_low"] <= 0.0 <= cannot["total_order_high"]
    assert table.loc["uncertainties.inflation_rate", "total_order_low"] > 0


def test_a_sobol_store_seeded_by_the_old_rule_is_not_resumed(tmp_path, capsys):
    spec = write_spec(tmp_path, SOBOL_SPEC.replace("samples = 8", "samples = 2"), "sobol")
    out = tmp_path / "old"
    sweep_here(spec, out)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["seeds"] = "an older rule"
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BadInput, match="seeded by another rule"):
        sweep_here(spec, out)


def test_read_series_refuses_months_the_sweep_did_not_record(reference):
    _, out = reference
    assert set(read_series(out, months=[1, 3])["month"]) == {1, 3}
    with pytest.raises(BadInput, match=r"months: \[12, 24\] are not in the series: it holds months 0 to 3"):
        read_series(out, months=[12, 24])


def test_the_policies_table_holds_each_policys_lever_settings_to_join_on(reference, tmp_path):
    spec_path, out = reference
    spec = load_sweep_spec(spec_path)
    policies = read_policies(out)
    assert list(policies["policy"]) == ["baseline", "clinics"]
    budgets = {name: policy.to_dict()["clinics"]["budget_usd"] for name, policy in spec.policies.items()}
    assert dict(zip(policies["policy"], policies["levers.clinics.budget_usd"], strict=True)) == budgets
    joined = read_runs(out).merge(policies, on="policy")
    assert joined.groupby("levers.clinics.budget_usd").size().to_dict() == dict.fromkeys(budgets.values(), 12)
    merged = tmp_path / "merged"
    merge_shards(merged, [out])
    assert read_policies(merged).equals(policies)
    (merged / "policies.parquet").write_bytes((merged / "policies.parquet").read_bytes()[:-20])
    with pytest.raises(BadInput, match=r"policies\.parquet.*differs from the checksum"):
        read_policies(merged)


def test_a_store_written_before_checksums_is_read_as_it_is_and_recorded_on_resume(reference, tmp_path, capsys):
    spec_path, out = reference
    old = tmp_path / "old"
    merge_shards(old, [out])
    (old / "parts.jsonl").unlink()  # as smesim wrote stores before parts.jsonl
    (old / "policies.parquet").unlink()
    assert_same_results(out, old)  # read unverified
    assert "written by an earlier smesim without checksums" in sweep_status(old)
    with pytest.raises(BadInput, match="without checksums: resume it once"):
        merge_shards(tmp_path / "merged", [old])
    assert sweep_here(spec_path, old).run_now == 0  # the first resume records the files as they are
    assert "without checksums" not in sweep_status(old) and len((old / "parts.jsonl").read_text().splitlines()) == 24
    assert_same_results(out, old)
    assert read_policies(old)["policy"].tolist() == ["baseline", "clinics"]
