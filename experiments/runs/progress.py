"""Progress on stderr: a tqdm bar on a terminal, plain lines in a log (batch jobs' logs stay short)."""

from __future__ import annotations

import math
import sys
import time

from tqdm import tqdm

__all__ = ["PROGRESS_LINE_SECONDS", "Progress", "SweepProgress", "is_terminal"]

PROGRESS_LINE_SECONDS = 60.0  # a sweep's plain-line progress says something at least this often


def is_terminal(stream) -> bool:
    """Whether progress goes to a terminal (a bar) or to a log (plain lines)."""
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _tenth_passed(done: int, before: int, total: int) -> bool:
    return math.floor(10 * done / total) > math.floor(10 * before / total)


class Progress:
    """Months stepped over all replications of a run: a bar, or a line at every tenth of the work."""

    def __init__(self, name: str, replications: int, months: int, enabled: bool = True, stream=None):
        self.name, self.replications, self.months = name, replications, months
        self.total = replications * months
        self.stream = sys.stderr if stream is None else stream
        self.enabled = enabled
        self.done = 0
        self.bar = None
        if enabled and is_terminal(self.stream):
            self.bar = tqdm(total=self.total, desc=name, unit="month", file=self.stream, dynamic_ncols=True)

    def advance(self, replication: int, month: int) -> None:
        self.done += 1
        if self.bar is not None:
            self.bar.set_postfix_str(f"replication {replication + 1}/{self.replications}", refresh=False)
            self.bar.update(1)
        elif self.enabled and _tenth_passed(self.done, self.done - 1, self.total):
            print(
                f"{self.name}: replication {replication + 1}/{self.replications}, month {month}/{self.months} "
                f"({self.done / self.total:.0%})",
                file=self.stream,
                flush=True,
            )

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.close()


class SweepProgress:
    """Runs finished of a sweep: a bar, or a line at every tenth or every PROGRESS_LINE_SECONDS."""

    def __init__(self, name: str, total: int, done: int, enabled: bool = True, stream=None):
        self.name, self.total, self.done, self.errors = name, total, done, 0
        self.stream = sys.stderr if stream is None else stream
        self.enabled, self.started, self.first = enabled, time.monotonic(), done
        self.last_line = self.started
        self.bar = None
        if enabled and is_terminal(self.stream):
            self.bar = tqdm(total=total, initial=done, desc=name, unit="run", file=self.stream, dynamic_ncols=True)

    def advance(self, runs: int, errors: int) -> None:
        before, self.done, self.errors = self.done, self.done + runs, self.errors + errors
        if self.bar is not None:
            self.bar.set_postfix_str(f"{self.errors} errors" if self.errors else "", refresh=False)
            self.bar.update(runs)
            return
        now = time.monotonic()
        if self.enabled and (
            _tenth_passed(self.done, before, self.total) or now - self.last_line >= PROGRESS_LINE_SECONDS
        ):
            self.last_line = now
            print(self._line(now), file=self.stream, flush=True)

    def waiting(self, text: str, urgent: bool = False) -> None:
        """While no result comes: what the cluster does, on the bar, or a line at least every
        PROGRESS_LINE_SECONDS (at once when `urgent`)."""
        if self.bar is not None:
            self.bar.set_postfix_str(text)
            return
        now = time.monotonic()
        if self.enabled and (urgent or now - self.last_line >= PROGRESS_LINE_SECONDS):
            self.last_line = now
            print(f"{self._line(now)}; waiting: {text}", file=self.stream, flush=True)

    def _line(self, now: float) -> str:
        elapsed = now - self.started
        rate = (self.done - self.first) / elapsed if elapsed > 0 else 0.0
        left = f", ~{(self.total - self.done) / rate:.0f} s left" if rate > 0 and self.done < self.total else ""
        return (
            f"{self.name}: {self.done}/{self.total} runs ({self.done / self.total:.0%}), {self.errors} errors, "
            f"{elapsed:.0f} s{left}"
        )

    def __enter__(self) -> SweepProgress:
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.close()
