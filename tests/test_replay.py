"""smesim replay: a stored run is reproduced exactly; a changed value is reported by column."""

import json
import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from experiments import cli

SETTINGS = ["--scale", "0.02", "--months", "4", "--replications", "2"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A comparison directory: baseline/ and ministry_plan/, small and short."""
    root = tmp_path_factory.mktemp("replay")
    for name in ("baseline", "ministry_plan"):
        assert cli.main(["run", name, *SETTINGS, "--out", str(root / name)]) == 0
    return root


def test_replay_of_a_stored_run_is_identical(runs, capsys):
    assert cli.main(["replay", str(runs / "baseline")]) == 0
    out = capsys.readouterr().out
    assert "identical" in out and "DIFFERENT" not in out


def test_replay_of_a_comparison_directory_replays_each_run(runs, capsys):
    assert cli.main(["replay", str(runs)]) == 0
    out = capsys.readouterr().out
    assert "baseline: identical" in out and "ministry_plan: identical" in out
    assert "2 run(s) reproduced exactly" in out


def test_tampered_parquet_is_reported_different_naming_the_column(runs, tmp_path, capsys):
    run = tmp_path / "baseline"
    shutil.copytree(runs / "baseline", run)
    table = pq.read_table(run / "indicators.parquet")
    frame = table.to_pandas()
    frame.loc[(frame["replication"] == 1) & (frame["month"] == 3), "exports_usd"] += 12345.0
    pq.write_table(table.from_pandas(frame, schema=table.schema, preserve_index=False), run / "indicators.parquet")
    assert cli.main(["replay", str(run)]) == 1
    out = capsys.readouterr().out
    assert "DIFFERENT" in out and "REPLAY DIFFERS" in out
    assert "column exports_usd: differs at months 3 (replications 1), largest difference 12345" in out
    assert "does not match the sha256 in the manifest" in out


def test_changed_package_version_is_named_as_a_reason(runs, tmp_path, capsys):
    run = tmp_path / "baseline"
    shutil.copytree(runs / "baseline", run)
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["versions"]["numpy"] = "0.0.1"
    (run / "manifest.json").write_text(json.dumps(manifest))
    table = pq.read_table(run / "indicators.parquet")
    frame = table.to_pandas()
    frame.loc[frame["month"] == 2, "employment"] *= 2
    pq.write_table(table.from_pandas(frame, schema=table.schema, preserve_index=False), run / "indicators.parquet")
    assert cli.main(["replay", str(run)]) == 1
    out = capsys.readouterr().out
    assert "column employment" in out and "numpy: 0.0.1 in the manifest" in out


def edit_manifest(runs, tmp_path, edit):
    """A copy of the stored baseline run whose manifest `edit(manifest)` changed."""
    run = tmp_path / "baseline"
    shutil.copytree(runs / "baseline", run)
    manifest = json.loads((run / "manifest.json").read_text())
    edit(manifest)
    (run / "manifest.json").write_text(json.dumps(manifest))
    return run


def test_edited_recorded_inputs_are_reported_different_naming_the_key(runs, tmp_path, capsys):
    def budget(manifest):
        manifest["scenario"]["validated"]["levers"]["clinics"]["budget_usd"] = 9e9

    assert cli.main(["replay", str(edit_manifest(runs, tmp_path, budget))]) == 1
    out = capsys.readouterr().out
    assert "DIFFERENT" in out
    assert (
        "manifest scenario.validated.levers.clinics.budget_usd: 9e+09 recorded, 0 from the stored scenario text" in out
    )
    assert "column " not in out  # the indicators themselves are reproduced


def test_edited_goal_records_are_reported_different(runs, tmp_path, capsys):
    def goals(manifest):
        manifest["goals"][0].update(month=4, values=[40000.0, 40000.0], met=[True, True])

    assert cli.main(["replay", str(edit_manifest(runs, tmp_path, goals))]) == 1
    out = capsys.readouterr().out
    assert "manifest goals[0].month: 4 recorded, 48 re-run" in out
    assert "manifest goals[0].met: [true, true] recorded, [] re-run" in out


@pytest.mark.parametrize("how", ["text_edited", "hash_removed"])
def test_scenario_text_not_matching_its_hash_exits_2_naming_the_key(runs, tmp_path, capsys, how):
    def tamper(manifest):
        if how == "hash_removed":
            del manifest["scenario"]["sha256"]
        else:
            manifest["scenario"]["text"] += "\n[levers.clinics]\nbudget_usd = 9e9\n"

    assert cli.main(["replay", str(edit_manifest(runs, tmp_path, tamper))]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "manifest.json: scenario.sha256:" in err[0]


@pytest.mark.parametrize("make", ["missing", "empty", "no_manifest", "bad_manifest"])
def test_bad_input_exits_2_with_one_line(runs, tmp_path, capsys, make):
    target = tmp_path / "dir"
    if make != "missing":
        target.mkdir()
    if make in ("no_manifest", "bad_manifest"):
        shutil.copy(runs / "baseline" / "indicators.parquet", target)
    if make == "bad_manifest":
        (target / "manifest.json").write_text("{not json")
    assert cli.main(["replay", str(target)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("smesim: error:")


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    out = tmp_path_factory.mktemp("replay_sweep") / "quick"
    assert cli.main(["sweep", "quick", "--workers", "0", "--out", str(out)]) == 0
    return out


def test_replay_of_a_sweep_reruns_some_runs_identically(sweep, capsys):
    assert cli.main(["replay", str(sweep), "--runs", "3"]) == 0
    out = capsys.readouterr().out
    assert "quick: identical (3 of " in out and "stored runs re-run" in out


def rewrite_chunk(store_dir, run_id: str, folder: str, edit) -> None:
    """Edit the rows of `run_id` in its chunk's `folder` table and store the chunk again through
    the store's writer (checksums recorded anew: a tamper the checksums cannot see)."""
    from experiments.sweeps.store import Store

    store = Store(store_dir)
    for part in store.check().parts:
        if run_id in part.run_ids:
            tables = {f: pq.read_table(part.file(store, f)) for f in ("runs", "series")}
            frame = tables[folder].to_pandas()
            edit(frame, frame["run_id"] == run_id)
            tables[folder] = pa.Table.from_pandas(frame, schema=tables[folder].schema, preserve_index=False)
            store.write_chunk(part.name, tables["runs"], tables["series"])


def test_tampered_sweep_series_is_reported_naming_the_run(sweep, tmp_path, capsys):
    from experiments.sweeps.replay import evenly_spread
    from experiments.sweeps.store import read_runs

    copy = tmp_path / "quick"
    shutil.copytree(sweep, copy)
    first = evenly_spread(sorted(read_runs(copy)["run_id"]), 2)[0]  # the first run replayed

    def add_99(frame, rows):
        frame.loc[rows & (frame["month"] == 2), "exports_usd"] += 99.0

    rewrite_chunk(copy, first, "series", add_99)
    assert cli.main(["replay", str(copy), "--runs", "2"]) == 1
    out = capsys.readouterr().out
    assert f"column exports_usd: differs at months 2 (runs {first}), largest difference 99" in out


def test_a_tampered_runs_table_is_reported_naming_the_column(sweep, tmp_path, capsys):
    from experiments.sweeps.store import read_runs

    copy = tmp_path / "quick"
    shutil.copytree(sweep, copy)
    first = sorted(read_runs(copy)["run_id"])[0]

    def double(frame, rows):
        frame.loc[rows, "exports_usd"] *= 2

    rewrite_chunk(copy, first, "runs", double)
    assert cli.main(["replay", str(copy), "--runs", "all"]) == 1
    assert f"runs table exports_usd: 1 run(s) differ from the re-run (e.g. run {first}" in capsys.readouterr().out


def test_an_edited_sweep_manifest_is_reported_naming_the_key(sweep, tmp_path, capsys):
    copy = tmp_path / "quick"
    shutil.copytree(sweep, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["spec"]["scale"] = 1.0
    (copy / "manifest.json").write_text(json.dumps(manifest))
    assert cli.main(["replay", str(copy), "--runs", "1"]) == 1
    assert "manifest.json spec.scale: 1 recorded" in capsys.readouterr().out


def test_sweep_whose_design_changed_is_reported(sweep, tmp_path, capsys):
    copy = tmp_path / "quick"
    shutil.copytree(sweep, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["spec_text"] = manifest["spec_text"].replace("seed = 1", "seed = 2", 1)  # other seeds: other run ids
    (copy / "manifest.json").write_text(json.dumps(manifest))
    assert cli.main(["replay", str(copy), "--runs", "2"]) == 1
    out = capsys.readouterr().out
    assert "not in the spec's run plan" in out


@pytest.mark.parametrize("runs", ["0", "-1", "some"])
def test_bad_run_count_exits_2(sweep, capsys, runs):
    assert cli.main(["replay", str(sweep), "--runs", runs]) == 2
