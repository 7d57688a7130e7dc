"""`smesim report`: one self-contained HTML report of a run, a comparison or a sweep, in English
or Persian (data, figures, HTML, words). Imported on first use: the figures load matplotlib."""

from __future__ import annotations

import importlib

__all__ = ["ReportData", "Words", "build_report", "load"]

_HOMES = {
    "build_report": "experiments.report.html",
    "load": "experiments.report.data",
    "ReportData": "experiments.report.data",
    "Words": "experiments.report.words",
}


def __getattr__(name: str):
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'experiments.report' has no attribute {name!r}")
