"""`smesim demo` (`make demo`): the workshop's starting comparison, the baseline against the
ministry's plan.

Runs the shipped scenarios `baseline` and `ministry_plan` as `smesim run` does (3
replications each by default, at the files' full scale and 48 months), writing
<out>/baseline/ and <out>/ministry_plan/ (indicators.parquet, manifest.json), and prints
the goals side by side: mean and range over replications, how many met the goal, and the
paired difference plan - baseline (replication r of both runs with the same seed, so the
two face the same world and the difference is the plan's effect plus model noise).
"""

from __future__ import annotations

from experiments.formatting import format_change, format_range, format_table, format_value
from experiments.inputs.goals import GoalOutcome, evaluate
from experiments.runs.runner import RunResult

__all__ = ["BASELINE", "DEFAULT_REPLICATIONS", "PLAN", "format_comparison", "paired_differences"]

BASELINE, PLAN = "baseline", "ministry_plan"
DEFAULT_REPLICATIONS = 3


def paired_differences(plan: GoalOutcome, baseline: GoalOutcome) -> list[float]:
    return [p - b for p, b in zip(plan.values, baseline.values, strict=True)]


def format_comparison(baseline: RunResult, plan: RunResult) -> str:
    """The baseline's goals checked on both runs, side by side, with the paired difference."""
    rows = []
    for base in baseline.goals:
        other = evaluate(base.goal, plan.frame, plan.scenario.months)
        name = base.goal.indicator
        if not base.reached:
            rows.append((base.goal.label, base.goal.target_text(), "n/a", base.result_text(), "n/a", "", ""))
            continue
        rows.append(
            (
                base.goal.label,
                base.goal.target_text(),
                format_range(name, list(base.values)),
                base.result_text(),
                format_range(name, list(other.values)),
                other.result_text(),
                format_range(name, paired_differences(other, base), format_change),
            )
        )
    s = baseline.scenario
    header = ("goal", "target", "baseline", "", "ministry plan", "", "plan - baseline")
    spend = [
        format_value("policy_spend_usd", r.at_month(s.months)["policy_spend_usd"].mean()) for r in (baseline, plan)
    ]
    return "\n".join(
        [
            f"\nBaseline against the ministry's plan: seed {s.seed}, {s.replications} paired replications, "
            f"{s.months} months, scale {s.scale}; values at each goal's month, mean (min to max)",
            "",
            format_table(header, rows, right=(1, 2, 4, 6)),
            "",
            f"Fiscal cost of the policies by month {s.months}: baseline {spend[0]}, plan {spend[1]} (USD).",
        ]
    )
