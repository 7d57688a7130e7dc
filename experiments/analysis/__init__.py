"""What the runs say: paired comparisons with the baseline, goals and costs, Sobol sensitivity,
the factors that decide a goal, the stylised facts of the baseline (validation), and the scale
check (small scales against full scale)."""

from experiments.analysis.compare import compare
from experiments.analysis.drivers import goal_drivers
from experiments.analysis.scale_check import scale_check
from experiments.analysis.sensitivity import replication_noise, sensitivity
from experiments.analysis.statistics import mean_interval, wilson_interval
from experiments.analysis.validation import stylised_facts

__all__ = [
    "compare",
    "goal_drivers",
    "mean_interval",
    "replication_noise",
    "scale_check",
    "sensitivity",
    "stylised_facts",
    "wilson_interval",
]
