"""`smesim dashboard`: the workshop page (app, on solara), its run (workshop), its views and SVG
charts, and its words. The app is imported on first use: it loads solara."""

from __future__ import annotations

import importlib

__all__ = ["PageWords", "WorkshopModel", "bar_chart", "line_chart", "make_page"]

_HOMES = {
    "PageWords": "experiments.dashboard.words",
    "WorkshopModel": "experiments.dashboard.workshop",
    "make_page": "experiments.dashboard.app",
    "line_chart": "experiments.dashboard.svg_charts",
    "bar_chart": "experiments.dashboard.svg_charts",
}


def __getattr__(name: str):
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'experiments.dashboard' has no attribute {name!r}")
