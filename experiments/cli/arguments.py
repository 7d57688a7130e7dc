"""Argument types shared by the commands."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["output_path"]


def output_path(text: str) -> Path:
    """An --out path: not empty (that would write into the current directory unasked), no
    control characters."""
    if not text.strip():
        raise argparse.ArgumentTypeError("must be a path, got an empty one (use --out . for this directory)")
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise argparse.ArgumentTypeError(f"must be a path without control characters, got {text!r}")
    return Path(text)
