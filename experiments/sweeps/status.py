"""`smesim status DIR`: a sweep directory's runs done, errored and left, per policy, and the time spent."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd
import pyarrow.dataset as ds

from experiments.errors import InputFileError
from experiments.formatting import format_table
from experiments.sweeps.store import ERROR, MANIFEST_FILE, OK, RUNS_DIR, Store, StoreCheck, read_manifest

__all__ = ["sweep_status"]


def sweep_status(directory: Path | str) -> str:
    """Runs done, errored and left, per policy, and the time spent so far."""
    directory = Path(directory)
    manifest = read_manifest(directory)
    if manifest is None:
        raise InputFileError(
            str(directory), None, f"no {MANIFEST_FILE}: not a sweep directory (smesim sweep writes one)"
        )
    store = Store(directory)
    check = store.check()
    runs = _runs_of(check, store)
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
            f"{runs['wall_seconds'].sum():.1f} s of run time; {_sessions_text(manifest, store)}",
            *_store_lines(check, store),
            "",
            format_table(("policy", "ok", "errors", "left", "run seconds"), rows, right=(1, 2, 3, 4)),
        ]
    )


def _runs_of(check: StoreCheck, store: Store) -> pd.DataFrame:
    """The runs table of the verified chunks."""
    columns = ["run_id", "policy", "status", "wall_seconds"]
    files = [part.file(store, RUNS_DIR) for part in check.parts]
    if not files:
        return pd.DataFrame({c: pd.Series(dtype=float if c == "wall_seconds" else object) for c in columns})
    return ds.dataset(files, format="parquet").to_table(columns=columns).to_pandas()


def _store_lines(check: StoreCheck, store: Store) -> list[str]:
    """What is wrong with the files, and who is writing now."""
    lines = []
    if check.damaged:
        lines.append(
            f"DAMAGED: {check.problem()}. Their runs are not counted above; resuming the sweep "
            "moves them aside and runs them again"
        )
    if check.unrecorded:
        lines.append(f"{len(check.unrecorded)} file(s) of an unfinished chunk (removed when the sweep resumes)")
    if not check.verified:
        lines.append("written by an earlier smesim without checksums: its files cannot be verified until it resumes")
    holder = store.holder()
    if holder:
        lines.append(f"a sweep is writing here now: {holder}")
    return lines


def _sessions_text(manifest: dict, store: Store) -> str:
    sessions = manifest.get("sessions", [])
    last_record = {}  # a session's last chunk: when an interrupted session stopped writing
    for record in store.records() or []:
        last_record[record.get("session")] = record.get("at")
    seconds = 0.0
    for index, session in enumerate(sessions):
        start = datetime.fromisoformat(session["started"])
        end_text = session.get("finished") or last_record.get(index)
        end = datetime.fromisoformat(end_text) if end_text else start
        seconds += max((end - start).total_seconds(), 0.0)
    unfinished = sum("finished" not in s for s in sessions)
    note = f", {unfinished} interrupted or running" if unfinished else ""
    return f"{len(sessions)} session{'s' if len(sessions) != 1 else ''} over {seconds:.0f} s{note}"
