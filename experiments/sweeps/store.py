"""The result store of a sweep: Parquet files with explicit schemas, one pair per chunk of runs,
and a record of every pair's checksums.

    <dir>/manifest.json                 the spec (text, hash, resolved content), seeds, versions, sessions
    <dir>/parts.jsonl                   one line per finished chunk: its files' sha256, bytes and rows
    <dir>/policies.parquet              one row per policy: its complete lever settings (join on policy)
    <dir>/runs/part-<chunk>.parquet     one row per run (schema `runs_schema`)
    <dir>/series/part-<chunk>.parquet   one row per run and month (schema SERIES_SCHEMA)
    <dir>/sweep.lock                    while a sweep or merge writes: who (host, pid, command, since)

runs: run_id (string), policy (string), sample (int32), design_block (string: "" unless
sobol: "A", "B", "AB:<i>"), replicate (int32), seed (string: the SeedSequence entropy in
decimal), status (string: "ok" or "error"), error (string, null when ok), wall_seconds
(float64), worker (string: host:pid), then one float64 column per factor named by its key
(e.g. "uncertainties.inflation_rate"), then one float64 column per indicator of
`simulation.indicators.INDICATORS` at the horizon (null for an error row).
series: run_id (string), month (int32, 0 = the initial state), then one float64 column per
indicator. An error row has no series rows.

Each file is written to a hidden temporary name (a leading ".") and renamed into place, the
series file first, the runs file next; then a line of parts.jsonl records both files' sha256,
size and rows (appended and synced). A recorded chunk is a finished one: readers use only
recorded files whose bytes match their record (`check`), and name any that do not. `repair`
(on every start of a sweep, under the lock) moves damaged chunks aside into `damaged/`,
deletes hidden temporary files and files that were never recorded (a killed writer's), and
drops a chunk that repeats runs another chunk holds, so their runs are run again, once.
`<chunk>` is a hash of the chunk's run ids: a chunk written twice writes the same file.

A store written before parts.jsonl existed (manifest_version 1) is read unverified; its first
resume records its files' checksums as they are then.

One writer at a time: `Store.lock` holds an exclusive `flock` on sweep.lock (released by the
kernel if the holder dies, so a stale lock is taken over without asking), and a second writer
is refused naming the holder.

Read with pandas (`read_runs`, `read_series`), or list the verified files with
`verified_files(dir)` for pyarrow or DuckDB (docs/guide-sweeps.md).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import socket
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from experiments.errors import InputFileError
from experiments.files import MANIFEST_FILE, atomic_path, read_json, sha256_of
from experiments.runs.provenance import now
from simulation.indicators import INDICATORS

__all__ = [
    "DAMAGED_DIR",
    "ERROR",
    "LOCK_FILE",
    "MANIFEST_FILE",
    "MANIFEST_KIND",
    "OK",
    "PARTS_FILE",
    "POLICIES_FILE",
    "RUNS_DIR",
    "RUN_COLUMNS",
    "SERIES_DIR",
    "SERIES_SCHEMA",
    "Part",
    "Store",
    "StoreBusy",
    "StoreCheck",
    "chunk_id",
    "is_sweep_directory",
    "read_manifest",
    "read_policies",
    "read_runs",
    "read_series",
    "runs_schema",
    "verified_files",
]

RUNS_DIR, SERIES_DIR, DAMAGED_DIR = "runs", "series", "damaged"
PARTS_FILE, LOCK_FILE, POLICIES_FILE = "parts.jsonl", "sweep.lock", "policies.parquet"
MANIFEST_KIND = "smesim sweep"
PART_PREFIX = "part-"
OK, ERROR = "ok", "error"
RUN_FIELDS = [
    ("run_id", pa.string()),
    ("policy", pa.string()),
    ("sample", pa.int32()),
    ("design_block", pa.string()),
    ("replicate", pa.int32()),
    ("seed", pa.string()),
    ("status", pa.string()),
    ("error", pa.string()),
    ("wall_seconds", pa.float64()),
    ("worker", pa.string()),
]
RUN_COLUMNS = tuple(name for name, _ in RUN_FIELDS)
SERIES_SCHEMA = pa.schema(
    [("run_id", pa.string()), ("month", pa.int32()), *((name, pa.float64()) for name in INDICATORS)]
)
COMPRESSION = "zstd"


def runs_schema(factor_keys: Sequence[str]) -> pa.Schema:
    """The runs table's schema for a spec's factors (explicit: an all-null column keeps its type)."""
    return pa.schema(
        [*RUN_FIELDS, *((key, pa.float64()) for key in factor_keys), *((name, pa.float64()) for name in INDICATORS)]
    )


def chunk_id(run_ids: Iterable[str]) -> str:
    """A chunk's name: the same runs, the same name."""
    return hashlib.sha256(",".join(sorted(run_ids)).encode("ascii")).hexdigest()[:16]


def _visible_parts(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.glob(f"{PART_PREFIX}*.parquet") if not p.name.startswith("."))


def _file_record(path: Path, rows: int) -> dict:
    return {"rows": rows, "bytes": path.stat().st_size, "sha256": sha256_of(path)}


@contextmanager
def _naming(path: Path) -> Iterator[None]:
    """pyarrow's OSErrors (no space left, ...) name no file: name the one being written."""
    try:
        yield
    except OSError as error:
        if error.filename or not error.errno:
            raise
        raise OSError(error.errno, os.strerror(error.errno), str(path)) from None


# --- checking -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """A finished chunk: its name, its runs' ids and its two files' records (rows, bytes, sha256)."""

    name: str
    run_ids: tuple[str, ...]
    record: dict  # the parts.jsonl line (an unverified store's: rebuilt from the files)

    def file(self, store: Store, folder: str) -> Path:
        return store.directory / folder / f"{PART_PREFIX}{self.name}.parquet"


@dataclass
class StoreCheck:
    """What a store's files hold: the verified parts, and what is wrong with the others."""

    parts: list[Part] = field(default_factory=list)
    damaged: dict[str, str] = field(default_factory=dict)  # chunk name -> what is wrong
    unrecorded: list[Path] = field(default_factory=list)  # files a killed writer left unrecorded
    verified: bool = True  # False for a store written before parts.jsonl (nothing to verify against)
    seen: set[str] = field(default_factory=set)  # the run ids of `parts`

    def run_ids(self) -> set[str]:
        return set(self.seen)

    def problem(self) -> str | None:
        """One sentence on the damage, or None."""
        if not self.damaged:
            return None
        shown = "; ".join(f"{name}: {why}" for name, why in list(self.damaged.items())[:3])
        more = f" (and {len(self.damaged) - 3} more)" if len(self.damaged) > 3 else ""
        return f"{len(self.damaged)} damaged chunk(s): {shown}{more}"


_HASHES: dict[tuple, str] = {}  # (path, size, mtime_ns, inode) -> sha256: a file is hashed once per process


def _sha256_cached(path: Path) -> str:
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns, stat.st_ino)
    if key not in _HASHES:
        _HASHES[key] = sha256_of(path)
    return _HASHES[key]


def _file_problem(path: Path, expected: dict) -> str | None:
    if not path.is_file():
        return f"{path.parent.name}/{path.name} is missing"
    if path.stat().st_size != expected.get("bytes") or _sha256_cached(path) != expected.get("sha256"):
        return f"{path.parent.name}/{path.name} differs from the checksum recorded when it was written"
    return None


def _read_ids(path: Path) -> list[str] | None:
    try:
        return pq.read_table(path, columns=["run_id"]).column("run_id").to_pylist()
    except (OSError, pa.ArrowException, KeyError):  # unreadable, or not one of ours
        return None


class Store:
    """A sweep's results directory."""

    def __init__(self, directory: Path | str):
        self.directory = Path(directory)
        self.runs_dir = self.directory / RUNS_DIR
        self.series_dir = self.directory / SERIES_DIR
        self.manifest_path = self.directory / MANIFEST_FILE
        self.parts_path = self.directory / PARTS_FILE
        self.lock_path = self.directory / LOCK_FILE

    # writing

    def write_chunk(self, name: str, runs: pa.Table, series: pa.Table, session: int | None = None) -> dict:
        """The series file, the runs file, then their record (returned): a recorded chunk is a
        finished one."""
        record: dict = {"chunk": name, "runs": runs.num_rows, "at": now(), "session": session}
        for folder, table in ((SERIES_DIR, series), (RUNS_DIR, runs)):
            path = self.directory / folder / f"{PART_PREFIX}{name}.parquet"
            with _naming(path), atomic_path(path) as tmp:
                pq.write_table(table, tmp, compression=COMPRESSION)
                record[folder + "_file"] = _file_record(tmp, table.num_rows)
        with _naming(self.parts_path):
            self._append_record(record)
        return record

    def write_policies(self, table: pa.Table) -> dict:
        """policies.parquet (one row per policy); returns its record for the manifest."""
        with _naming(self.directory / POLICIES_FILE), atomic_path(self.directory / POLICIES_FILE) as tmp:
            pq.write_table(table, tmp, compression=COMPRESSION)
            return _file_record(tmp, table.num_rows)

    def copy_policies(self, source: Store) -> dict:
        """Another store's policies table, checked, copied here; returns its record."""
        table = pa.Table.from_pandas(read_policies(source.directory), preserve_index=False)
        return self.write_policies(table)

    def copy_part(self, source: Store, part: Part) -> None:
        """Copy a verified chunk of another store here (series file, runs file, then its record)."""
        record = dict(part.record)
        for folder in (SERIES_DIR, RUNS_DIR):
            with atomic_path(part.file(self, folder)) as tmp:
                shutil.copyfile(part.file(source, folder), tmp)
                record[folder + "_file"] = _file_record(tmp, (part.record.get(folder + "_file") or {}).get("rows", 0))
        self._append_record(record)

    def _append_record(self, record: dict) -> None:
        with self.parts_path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, sort_keys=True) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def records(self, lenient: bool = False) -> list[dict] | None:
        """The parts.jsonl lines (None for a store without the file). A torn last line (a writer
        killed while appending) is left out; another damaged line is an InputFileError naming it,
        or with `lenient` (repair) left out too, so that its chunk counts as never recorded."""
        if not self.parts_path.exists():
            return None
        try:
            lines = self.parts_path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError as error:
            raise InputFileError(str(self.parts_path), None, f"cannot read the chunks' record: {error}") from None
        records = []
        for number, line in enumerate(lines, 1):
            try:
                record = json.loads(line)
                if not isinstance(record, dict) or not isinstance(record.get("chunk"), str):
                    raise ValueError("not a chunk record")
            except (ValueError, RecursionError) as error:
                if lenient or number == len(lines):
                    continue
                raise InputFileError(
                    str(self.parts_path), f"line {number}", f"damaged ({error}); resuming the sweep repairs it"
                ) from None
            records.append(record)
        return records

    def has_results(self) -> bool:
        return bool(_visible_parts(self.runs_dir) or _visible_parts(self.series_dir))

    # checking

    def check(self, lenient: bool = False) -> StoreCheck:
        """Verify every recorded chunk against its record (bytes, sha256, rows) and that no run is
        in two chunks; list the files no record names (`lenient`: see `records`)."""
        records = self.records(lenient)
        if records is None:
            return self._check_without_record()
        result = StoreCheck()
        latest = {record["chunk"]: record for record in records}  # a chunk written again: its last record
        for name, record in latest.items():
            self._add_part(result, name, record, self._files_problem(name, record))
        named = {f"{PART_PREFIX}{name}.parquet" for name in latest}
        result.unrecorded = [
            p for folder in (self.runs_dir, self.series_dir) for p in _visible_parts(folder) if p.name not in named
        ]
        return result

    def _files_problem(self, name: str, record: dict) -> str | None:
        for folder in (RUNS_DIR, SERIES_DIR):
            problem = _file_problem(
                self.directory / folder / f"{PART_PREFIX}{name}.parquet", record.get(folder + "_file") or {}
            )
            if problem:
                return problem
        return None

    def _add_part(self, result: StoreCheck, name: str, record: dict, problem: str | None) -> None:
        ids = None if problem else _read_ids(self.runs_dir / f"{PART_PREFIX}{name}.parquet")
        if ids is None:
            result.damaged[name] = problem or f"{RUNS_DIR}/{PART_PREFIX}{name}.parquet cannot be read as a runs table"
        elif len(ids) != record.get("runs", len(ids)):
            result.damaged[name] = (
                f"{RUNS_DIR}/{PART_PREFIX}{name}.parquet has {len(ids)} runs, {record['runs']} recorded"
            )
        elif twice := [run_id for run_id in ids if run_id in result.seen]:
            result.damaged[name] = (
                f"repeats {len(twice)} run(s) another chunk holds (written twice; e.g. run {twice[0]})"
            )
        else:
            result.parts.append(Part(name, tuple(ids), record))
            result.seen.update(ids)

    def _check_without_record(self) -> StoreCheck:
        """A store without parts.jsonl (written before it existed): every runs file with, when it
        has ok runs, its series file; nothing to verify the bytes against."""
        result = StoreCheck(verified=False)
        for runs_file in _visible_parts(self.runs_dir):
            name = runs_file.name[len(PART_PREFIX) : -len(".parquet")]
            series_file = self.series_dir / runs_file.name
            record = {"chunk": name}
            problem = None
            try:
                table = pq.read_table(runs_file, columns=["status"])
                record["runs"] = table.num_rows
                if not series_file.is_file() and OK in table.column("status").to_pylist():
                    problem = f"{SERIES_DIR}/{runs_file.name} is missing"
            except (OSError, pa.ArrowException, KeyError):
                problem = f"{RUNS_DIR}/{runs_file.name} cannot be read as a runs table"
            self._add_part(result, name, record, problem)
        finished = {p.name for p in _visible_parts(self.runs_dir)}
        result.unrecorded = [p for p in _visible_parts(self.series_dir) if p.name not in finished]
        return result

    def verified_parts(self) -> StoreCheck:
        """The check of a store readers may use: an InputFileError naming the damage, if any."""
        check = self.check()
        problem = check.problem()
        if problem:
            raise InputFileError(
                str(self.directory),
                None,
                f"{problem}. Resuming the sweep (smesim sweep SPEC --out {self.directory}) moves them aside "
                "and runs their runs again",
            )
        return check

    # repairing (by the one writer, under the lock)

    def repair(self, retry_errors: bool = False) -> list[str]:
        """Make the store hold only verified, recorded chunks (module doc); with `retry_errors`
        also drop the error rows so that their runs run again. Returns what was done, in words."""
        done = [f"removed {p.name}" for p in self._remove_temporary()]
        check = self.check(lenient=True)
        for name, why in check.damaged.items():
            self._move_aside(name)
            done.append(f"moved chunk {name} aside into {DAMAGED_DIR}/ ({why}); its runs run again")
        for path in check.unrecorded:
            path.unlink(missing_ok=True)
            done.append(f"removed {path.parent.name}/{path.name} (never recorded: a killed writer's)")
        parts = check.parts
        if retry_errors:
            parts, retried = self._drop_errors(parts)
            done += retried
        if parts or self.parts_path.exists():  # (a new store stays empty until its first chunk)
            self._rewrite_records(parts, verified=check.verified)  # also ends a torn last line
        return done

    def _remove_temporary(self) -> list[Path]:
        removed = [
            p
            for folder in (self.runs_dir, self.series_dir)
            if folder.is_dir()
            for p in folder.iterdir()
            if p.name.startswith(".") and p.is_file()
        ]
        for path in removed:
            path.unlink(missing_ok=True)
        return removed

    def _move_aside(self, name: str) -> None:
        for folder in (RUNS_DIR, SERIES_DIR):
            path = self.directory / folder / f"{PART_PREFIX}{name}.parquet"
            if path.exists():
                target = self.directory / DAMAGED_DIR / folder / path.name
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, target)

    def _drop_errors(self, parts: list[Part]) -> tuple[list[Part], list[str]]:
        """Rewrite each chunk with error rows without them (its ok runs keep their values)."""
        kept, done = [], []
        for part in parts:
            runs = pq.read_table(part.file(self, RUNS_DIR))
            ok = pc.equal(runs.column("status"), OK)
            if pc.all(ok).as_py():
                kept.append(part)
                continue
            errors = runs.num_rows - pc.sum(ok).as_py()
            good = runs.filter(ok)
            if good.num_rows:
                series = pq.read_table(part.file(self, SERIES_DIR))
                name = chunk_id(good.column("run_id").to_pylist())
                record = self.write_chunk(name, good, series, part.record.get("session"))
                kept.append(Part(name, tuple(good.column("run_id").to_pylist()), record))
            for folder in (RUNS_DIR, SERIES_DIR):
                part.file(self, folder).unlink(missing_ok=True)
            done.append(f"chunk {part.name}: {errors} failed run(s) to run again")
        return kept, done

    def _rewrite_records(self, parts: list[Part], verified: bool) -> None:
        """parts.jsonl holding exactly `parts` (an unverified store's files are recorded as they are)."""
        lines = []
        for part in parts:
            record = dict(part.record)
            if not verified or "runs_file" not in record:
                for folder in (SERIES_DIR, RUNS_DIR):
                    path = part.file(self, folder)
                    if path.exists():
                        record[folder + "_file"] = _file_record(path, pq.read_metadata(path).num_rows)
                    else:  # a chunk of error rows only, from before parts.jsonl: an empty series file
                        pq.write_table(SERIES_SCHEMA.empty_table(), path, compression=COMPRESSION)
                        record[folder + "_file"] = _file_record(path, 0)
                record["runs"] = len(part.run_ids)
            lines.append(json.dumps(record, sort_keys=True))
        with atomic_path(self.parts_path) as tmp:
            tmp.write_text("".join(line + "\n" for line in lines), encoding="utf-8")

    def clear(self) -> None:
        """Remove every result and the manifest (a fresh start); the manifest first, so that a
        half-cleared directory does not look like a sweep."""
        self.manifest_path.unlink(missing_ok=True)
        self.parts_path.unlink(missing_ok=True)
        (self.directory / POLICIES_FILE).unlink(missing_ok=True)
        for directory in (self.runs_dir, self.series_dir, self.directory / DAMAGED_DIR):
            shutil.rmtree(directory, ignore_errors=True)

    # one writer

    @contextmanager
    def lock(self, command: Sequence[str] = ()) -> Iterator[dict | None]:
        """Hold the store's exclusive lock while writing; yields the stale holder taken over (a
        killed writer's record), or None. A live holder: StoreBusy naming it. A directory made
        here for the lock alone is removed again if nothing was written."""
        made = not self.directory.exists()
        self.directory.mkdir(parents=True, exist_ok=True)
        handle, stale = self._acquire()
        try:
            holder = {"host": socket.gethostname(), "pid": os.getpid(), "since": now(), "command": list(command)}
            handle.seek(0)
            handle.truncate()
            handle.write(json.dumps(holder) + "\n")
            handle.flush()
            yield stale
        finally:
            self.lock_path.unlink(missing_ok=True)
            handle.close()
            if made and not any(self.directory.iterdir()):
                self.directory.rmdir()

    def _acquire(self):
        while True:
            handle = self.lock_path.open("a+", encoding="utf-8")
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _holder_text(handle)
                handle.close()
                raise StoreBusy(self.directory, holder) from None
            try:
                same = os.stat(self.lock_path).st_ino == os.fstat(handle.fileno()).st_ino
            except FileNotFoundError:
                same = False
            if same:  # not a file its last holder has just removed
                text = _holder_text(handle)
                return handle, (json.loads(text) if text.startswith("{") else None)
            handle.close()

    def holder(self) -> str | None:
        """Who holds the lock now (a running sweep), or None."""
        if not self.lock_path.exists():
            return None
        with self.lock_path.open("a+", encoding="utf-8") as handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return _holder_text(handle) or "another process"
        return None


def _holder_text(handle) -> str:
    handle.seek(0)
    return handle.read(2000).strip()


class StoreBusy(InputFileError):
    """Another process writes into the store."""

    def __init__(self, directory: Path, holder: str):
        try:
            who = json.loads(holder)
            text = f"pid {who['pid']} on {who['host']} since {who['since']} ({' '.join(who['command'])})"
        except (ValueError, KeyError, TypeError):
            text = holder or "another process"
        super().__init__(
            str(directory),
            None,
            f"another smesim is writing here: {text}. Wait for it to finish (or stop it), then run the "
            "command again; two writers would duplicate runs",
        )


# --- reading --------------------------------------------------------------------------------


def is_sweep_directory(directory: Path) -> bool:
    return (Path(directory) / MANIFEST_FILE).is_file() and (Path(directory) / RUNS_DIR).is_dir()


def read_manifest(directory: Path | str) -> dict | None:
    """A sweep directory's manifest (None if it has none); an InputFileError if it is unreadable
    or not a sweep's."""
    path = Path(directory) / MANIFEST_FILE
    if not path.exists():
        return None
    data = read_json(path, "the sweep's manifest")
    if not isinstance(data, dict) or data.get("kind") != MANIFEST_KIND:
        raise InputFileError(str(path), "kind", f"not a sweep's manifest (kind {MANIFEST_KIND!r} expected)")
    return data


def read_policies(directory: Path | str) -> pd.DataFrame:
    """The policies table (policy, then one column per lever setting, e.g.
    "levers.clinics.budget_usd"), checked against the manifest's record of it."""
    path, manifest = Path(directory) / POLICIES_FILE, read_manifest(directory) or {}
    record = manifest.get("policies_file")
    if record is None:
        raise InputFileError(str(path), None, "not in this sweep directory (written by smesim sweep since version 2)")
    problem = _file_problem(path, record)
    if problem:
        raise InputFileError(str(path), None, f"{problem}: resuming the sweep writes it again")
    return pq.read_table(path).to_pandas()


def verified_files(directory: Path | str, folder: str = RUNS_DIR) -> list[Path]:
    """The `folder` ("runs" or "series") files of the store's verified chunks, for pyarrow or
    DuckDB; an InputFileError naming any damaged chunk."""
    store = Store(directory)
    return [part.file(store, folder) for part in store.verified_parts().parts]


def read_runs(directory: Path | str, columns: Sequence[str] | None = None, require: bool = False) -> pd.DataFrame:
    """The runs table of a sweep directory (its verified chunks; an InputFileError naming any
    damaged one). With `require`, a directory without runs is an InputFileError, not an empty table."""
    parts = verified_files(directory, RUNS_DIR)
    if not parts:
        if require:
            raise InputFileError(
                str(directory),
                None,
                f"no runs table ({RUNS_DIR}/*.parquet): not a sweep directory, "
                "or the sweep has not finished a chunk yet",
            )
        return runs_schema(()).empty_table().to_pandas()
    return ds.dataset(parts, format="parquet").to_table(columns=columns).to_pandas()


def read_series(
    directory: Path | str,
    columns: Sequence[str] | None = None,
    months: Sequence[int] | None = None,
    run_ids: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The series table (run_id, month, indicators), optionally only some columns, months or runs.
    Months the sweep did not record (beyond its horizon) are refused, naming the months it has:
    an empty frame would look like missing results."""
    parts = verified_files(directory, SERIES_DIR)
    if not parts:
        return SERIES_SCHEMA.empty_table().to_pandas()
    dataset = ds.dataset(parts, format="parquet")
    condition = None
    if months is not None:
        wanted = sorted({int(m) for m in months})
        recorded = dataset.to_table(columns=["month"]).column("month")
        if len(recorded) == 0:
            return SERIES_SCHEMA.empty_table().to_pandas()
        low, high = pc.min(recorded).as_py(), pc.max(recorded).as_py()
        outside = [m for m in wanted if not low <= m <= high]
        if outside:
            raise InputFileError(
                str(directory), "months", f"{outside} are not in the series: it holds months {low} to {high}"
            )
        condition = ds.field("month").isin(wanted)
    if run_ids is not None:
        by_run = ds.field("run_id").isin(list(run_ids))
        condition = by_run if condition is None else condition & by_run
    columns = None if columns is None else list(dict.fromkeys(["run_id", "month", *columns]))
    return dataset.to_table(columns=columns, filter=condition).to_pandas()
