"""What every worker process of an embedded cluster does on starting (imported only with Dask)."""

from __future__ import annotations

import signal

from distributed.diagnostics.plugin import WorkerPlugin

__all__ = ["IgnoreInterrupts"]


class IgnoreInterrupts(WorkerPlugin):
    """Ctrl-C in a terminal reaches every process of the command's group; the workers leave it
    to the driver, which stops them, instead of each printing its tracebacks."""

    name = "smesim-ignore-interrupts"

    def setup(self, worker) -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
