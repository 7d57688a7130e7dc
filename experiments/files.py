"""Files: written so that a crash never leaves one that looks complete, read with errors that
name them, and hashed.

Each file is written to a hidden temporary name (a leading "." and the process id) in its
own directory, then renamed into place with `os.replace`, which is atomic on one file
system. Readers ignore dot-files; a temporary file is removed if writing fails or is
interrupted (only a SIGKILL can leave one behind, and it stays hidden).
"""

from __future__ import annotations

import hashlib
import json
import os
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from experiments.errors import CONTROL, InputFileError

__all__ = [
    "MANIFEST_FILE",
    "RESULTS_DIR",
    "atomic_path",
    "canonical_json",
    "find_toml",
    "is_file",
    "parse_toml",
    "read_json",
    "read_toml",
    "read_toml_text",
    "sha256_of",
    "sha256_text",
    "write_csv_atomically",
    "write_json_atomically",
    "write_parquet_atomically",
]


MANIFEST_FILE = "manifest.json"  # of a run directory and of a sweep directory: written last, read first
RESULTS_DIR = Path("results")  # where commands write by default: results/<scenario>, results/sweeps/<spec>, ...


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a hidden temporary path beside `path`; on success rename it to `path`, else delete it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _write_atomically(path: Path, write: Callable[[Path], object]) -> None:  # what write returns is ignored
    with atomic_path(path) as tmp:
        write(tmp)


def write_csv_atomically(frame: pd.DataFrame, path: Path, **to_csv) -> None:
    """Write a CSV via a hidden temporary file in the same directory, then rename it into place."""
    _write_atomically(path, lambda tmp: frame.to_csv(tmp, **to_csv))


def write_parquet_atomically(table: pa.Table, path: Path) -> None:
    """Write a Parquet file (its schema is the table's) via a hidden temporary file."""
    _write_atomically(path, lambda tmp: pq.write_table(table, tmp))


def write_json_atomically(data, path: Path) -> None:
    """Write indented UTF-8 JSON via a hidden temporary file."""
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    _write_atomically(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def is_file(path: Path) -> bool:
    """Whether `path` is a file; False for a name the system cannot even look up (too long)."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def find_toml(source: str | Path, shipped: dict[str, Path], what: str) -> Path:
    """`source` itself if it is a file, else the shipped file of that name (`what`: "scenario", "sweep spec")."""
    path = Path(source)
    if CONTROL.search(str(source)):  # its name is printed: no escape sequences for the terminal
        raise InputFileError(str(source), None, f"a {what} file's name must not hold control characters")
    if is_file(path):
        return path
    name = path.stem if path.suffix == ".toml" and path.parent == Path(".") else str(source)
    if name in shipped:
        return shipped[name]
    raise InputFileError(str(source), None, f"no such {what} file, nor a shipped {what}; shipped: {', '.join(shipped)}")


def read_toml_text(path: Path) -> str:
    """The file's text as it is on disk (no newline translation: a CRLF file's text hashes like
    its bytes), or an InputFileError naming it."""
    try:
        return path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InputFileError(str(path), None, f"cannot read the file: {error}") from None


def parse_toml(text: str, file: str) -> dict:
    """The tables of a TOML text, or an InputFileError naming `file` (not valid TOML, or nested
    too deeply for the parser)."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InputFileError(file, None, f"not valid TOML: {error}") from None
    except RecursionError:
        raise InputFileError(file, None, "not valid TOML: nested too deeply") from None


def read_toml(path: Path) -> dict:
    """The file's TOML tables, or an InputFileError naming it (unreadable, or not valid TOML)."""
    return parse_toml(read_toml_text(path), str(path))


def read_json(path: Path, what: str) -> object:
    """The data of a JSON file (`what` it is, for the message), or an InputFileError naming it."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputFileError(str(path), None, f"cannot read {what}: {error}") from None
    except RecursionError:
        raise InputFileError(str(path), None, f"cannot read {what}: nested too deeply") from None


def canonical_json(data) -> str:
    """Sorted keys, no spaces, exact floats: the same data gives the same text everywhere."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
