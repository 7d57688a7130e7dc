"""`smesim status DIR`: a sweep directory's runs done, errored and left, per policy, and the time spent."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from experiments.errors import InputFileError
from experiments.formatting import format_table
from experiments.sweeps.store import ERROR, MANIFEST_FILE, OK, RUNS_DIR, read_manifest, read_runs

__all__ = ["sweep_status"]


def sweep_status(directory: Path | str) -> str:
    """Runs done, errored and left, per policy, and the time spent so far."""
    directory = Path(directory)
    manifest = read_manifest(directory)
    if manifest is None:
        raise InputFileError(
            str(directory), None, f"no {MANIFEST_FILE}: not a sweep directory (smesim sweep writes one)"
        )
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
    return "\n".join(
        [
            f"{scope}sweep {manifest.get('spec_name')} ({manifest.get('spec_file')}) in {directory}",
            f"{done} of {total} runs done ({errors} errors), {max(total - done, 0)} left; "
            f"{runs['wall_seconds'].sum():.1f} s of run time; {_sessions_text(manifest, directory)}",
            "",
            format_table(("policy", "ok", "errors", "left", "run seconds"), rows, right=(1, 2, 3, 4)),
        ]
    )


def _sessions_text(manifest: dict, directory: Path) -> str:
    sessions = manifest.get("sessions", [])
    seconds = 0.0
    for session in sessions:
        start = datetime.fromisoformat(session["started"])
        if "finished" in session:
            end = datetime.fromisoformat(session["finished"])
        else:  # interrupted, or still running: until its last file
            latest = max(
                (p.stat().st_mtime for p in (directory / RUNS_DIR).glob("*.parquet")), default=start.timestamp()
            )
            end = datetime.fromtimestamp(max(latest, start.timestamp()), UTC)
        seconds += (end - start).total_seconds()
    unfinished = sum("finished" not in s for s in sessions)
    note = f", {unfinished} interrupted or running" if unfinished else ""
    return f"{len(sessions)} session{'s' if len(sessions) != 1 else ''} over {seconds:.0f} s{note}"
