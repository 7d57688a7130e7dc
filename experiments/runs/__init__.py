"""One scenario run: the runner, the run-directory format (written and read in one place),
provenance, progress, the model as a function for other tools (adapter), replay and the demo."""

from experiments.runs.adapter import run_model, simulate
from experiments.runs.rundir import INDICATORS_FILE, MANIFEST_FILE, read_indicators, read_run_manifest, run_directories
from experiments.runs.runner import RunResult, run_scenario

__all__ = [
    "INDICATORS_FILE",
    "MANIFEST_FILE",
    "RunResult",
    "read_indicators",
    "read_run_manifest",
    "run_directories",
    "run_model",
    "run_scenario",
    "simulate",
]
