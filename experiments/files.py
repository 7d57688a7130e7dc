"""Writing result files so that a crash never leaves one that looks complete."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd


def write_csv_atomically(frame: pd.DataFrame, path: Path, **to_csv) -> None:
    """Write a CSV via a hidden temporary file in the same directory, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        frame.to_csv(tmp, **to_csv)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
