"""Where results come from: package versions, the git state of the code, the time."""

from __future__ import annotations

import importlib.metadata
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["PACKAGES", "git_state", "now", "package_versions"]

PACKAGES = ("numpy", "scipy", "pandas", "mesa", "pyarrow", "smesim")
REPOSITORY = Path(__file__).resolve().parents[2]


def now() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def package_versions(extra: tuple[str, ...] = ()) -> dict[str, str | None]:
    """Python's version and each package's of PACKAGES and `extra` (None: not installed)."""
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in (*PACKAGES, *extra):
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(REPOSITORY), *args], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def git_state() -> dict:
    """The commit of the repository this code runs from and whether its tree differs from it;
    nulls when the code is not in a git checkout (an installed package)."""
    top = _git("rev-parse", "--show-toplevel")
    if top is None or Path(top).resolve() != REPOSITORY:
        return {"commit": None, "dirty": None}
    status = _git("status", "--porcelain")
    return {"commit": _git("rev-parse", "HEAD"), "dirty": None if status is None else bool(status)}
