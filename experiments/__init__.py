"""The experiment machinery around the model (`simulation`): inputs, runs, sweeps, analyses,
reports, the dashboard and the `smesim` command line. docs/ARCHITECTURE.md maps it.

The names users call are available here (imported on first use, so that `import experiments`
stays quick):

    from experiments import run_model, load_scenario, run_scenario, load_sweep_spec, run_sweep, read_runs
"""

from __future__ import annotations

import importlib

__all__ = [
    "compare",
    "goal_drivers",
    "load_scenario",
    "load_sweep_spec",
    "read_runs",
    "read_series",
    "run_model",
    "run_scenario",
    "run_sweep",
    "scale_check",
    "sensitivity",
    "simulate",
    "stylised_facts",
]

_HOMES = {
    "load_scenario": "experiments.inputs.scenario",
    "load_sweep_spec": "experiments.inputs.sweep_spec",
    "run_model": "experiments.runs.adapter",
    "simulate": "experiments.runs.adapter",
    "run_scenario": "experiments.runs.runner",
    "run_sweep": "experiments.sweeps.sweep",
    "read_runs": "experiments.sweeps.store",
    "read_series": "experiments.sweeps.store",
    "compare": "experiments.analysis.compare",
    "sensitivity": "experiments.analysis.sensitivity",
    "goal_drivers": "experiments.analysis.drivers",
    "stylised_facts": "experiments.analysis.validation",
    "scale_check": "experiments.analysis.scale_check",
}


def __getattr__(name: str):
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'experiments' has no attribute {name!r}")
