"""What a user writes: scenarios, goals, sweep specs and flat parameter keys, validated before
anything runs; the shipped TOML files (scenarios/, sweeps/, goals.toml)."""

from experiments.inputs.goals import Goal, GoalOutcome, evaluate, load_goals
from experiments.inputs.keys import FlatKey, ModelInputs, model_inputs, parse_key
from experiments.inputs.scenario import Scenario, load_scenario, parse_scenario, shipped_scenarios
from experiments.inputs.sweep_spec import Factor, SweepSpec, load_sweep_spec, parse_sweep_spec, shipped_sweeps

__all__ = [
    "Factor",
    "FlatKey",
    "Goal",
    "GoalOutcome",
    "ModelInputs",
    "Scenario",
    "SweepSpec",
    "evaluate",
    "load_goals",
    "load_scenario",
    "load_sweep_spec",
    "model_inputs",
    "parse_key",
    "parse_scenario",
    "parse_sweep_spec",
    "shipped_scenarios",
    "shipped_sweeps",
]
