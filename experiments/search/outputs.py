"""What a search writes beside its stores (docs/file-formats.md, "Search directories"):
frontier.csv and frontier.png, verification.csv, surrogates.csv, one recommended-<goal
set>.toml scenario per goal set that has a recommendation, and summary.txt (also printed)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from experiments.files import atomic_path, write_csv_atomically
from experiments.formatting import format_percent, format_value
from experiments.inputs.scenario import parse_scenario, shock_to_dict
from experiments.search.spec import SPEND, SearchSpec
from experiments.search.toml_text import toml_document

__all__ = ["SearchResult", "format_search", "recommended_scenario", "write_outputs"]


@dataclass
class SearchResult:
    """What a search found: tables (DataFrames) and the recommendation per goal set."""

    spec: SearchSpec
    out: Path
    candidates: pd.DataFrame  # the frontier table: one row per candidate of the search rounds
    verification: pd.DataFrame  # one row per goal set and short-listed candidate
    surrogates: pd.DataFrame  # indicator, points, cv_r2 of the surrogates on every search run
    recommendations: dict[str, dict] = field(default_factory=dict)  # goal set -> what to say
    runs_now: int = 0
    seconds: float = 0.0


EXPLAIN = "run smesim explain to see which constraint binds (experiments/analysis/goal_caps.py)"


def write_outputs(result: SearchResult, search: pd.DataFrame) -> None:
    out = result.out
    write_csv_atomically(result.candidates, out / "frontier.csv", index=False)
    write_csv_atomically(result.verification, out / "verification.csv", index=False)
    write_csv_atomically(result.surrogates, out / "surrogates.csv", index=False)
    _figure(result, out / "frontier.png")
    for set_name, rec in result.recommendations.items():
        path = out / f"recommended-{set_name}.toml"
        if rec.get("found"):
            with atomic_path(path) as tmp:
                tmp.write_text(recommended_scenario(result, set_name), encoding="utf-8")
        else:
            path.unlink(missing_ok=True)  # an earlier, smaller search's recommendation no longer holds
    with atomic_path(out / "summary.txt") as tmp:
        tmp.write_text(format_search(result) + "\n", encoding="utf-8")


def recommended_scenario(result: SearchResult, set_name: str) -> str:
    """The recommended mix as a scenario file `smesim run` accepts: the base's levers with the
    fixed settings and the mix over them, the base's uncertainties, constants and shocks, the
    search's horizon and scale, and the spec's goals. Checked by parsing it back."""
    spec, rec = result.spec, result.recommendations[set_name]
    base = spec.probe.base
    levers = base.policy.to_dict()
    mix = {lever.key: rec[lever.key] for lever in spec.levers}
    for lever, settings in spec.policy_levers(mix).items():
        levers[lever] = {**levers[lever], **settings}
    data = {
        "description": f"{spec.name}: the cheapest mix found to meet goal set {set_name}",
        "seed": spec.verify_seed,
        "months": spec.months,
        "scale": spec.scale,
        "levers": {
            lever: {k: list(v) if isinstance(v, tuple) else v for k, v in s.items()} for lever, s in levers.items()
        },
        "uncertainties": dict(base.uncertainties),
        "constants": dict(base.constants),
        "shocks": [shock_to_dict(shock) for shock in base.shocks],
        "goals": spec.goals_table,
    }
    header = (
        f"Recommended by smesim search ({spec.file}), candidate {rec['candidate']}: verified on fresh seeds to\n"
        f"meet {', '.join(spec.goal_sets[set_name])} with probability {rec['probability']:.3f} "
        f"({rec['p_low']:.3f} to {rec['p_high']:.3f}, {spec.confidence:.0%}) >= {spec.probability},\n"
        f"at a mean fiscal cost of {format_value(SPEND, rec['cost_usd'])} USD by month {spec.months}."
    )
    text = toml_document({k: v for k, v in data.items() if v not in ({}, [])}, header)
    parse_scenario(text, f"recommended-{set_name}.toml", f"recommended-{set_name}")  # what smesim run checks
    return text


def format_search(result: SearchResult) -> str:
    spec = result.spec
    lines = [f"{spec.name}: {spec.description}"]
    evaluated = len(result.candidates)
    lines.append(
        f"{evaluated} candidates searched on {spec.draws} draws x {spec.seeds} seeds; "
        f"{result.runs_now} runs run now in {result.seconds:.0f} s ({result.out})"
    )
    accuracy = ", ".join(
        f"{r.indicator} {r.cv_r2:.2f} (mixes {r.cv_r2_mixes:.2f})" for r in result.surrogates.itertuples()
    )
    lines.append(f"surrogates (Gaussian processes), cross-validated R^2, whole candidates left out: {accuracy}")
    cap = "" if spec.cost_cap_usd is None else f" within the cap of {format_value(SPEND, spec.cost_cap_usd)} USD"
    for set_name, rec in result.recommendations.items():
        goals = ", ".join(spec.goal_sets[set_name])
        lines.append("")
        if rec.get("found"):
            lines.append(f"goal set {set_name} ({goals}), p >= {spec.probability}{cap}: recommended {rec['candidate']}")
            lines += _claim_lines(spec, rec, set_name)
            lines.append(f"  scenario: {result.out / f'recommended-{set_name}.toml'} (smesim run accepts it)")
        elif "candidate" not in rec:
            lines.append(f"goal set {set_name} ({goals}): no recommendation: {rec['reason']}")
        elif rec.get("verdict") == "undecided":
            lines.append(
                f"goal set {set_name} ({goals}): undecided: no mix{cap} was verified to meet the goals with "
                f"probability >= {spec.probability}, and the best claim, {rec['candidate']}'s "
                f"{rec['probability']:.3f} ({rec['p_low']:.3f} to {rec['p_high']:.3f}), still straddles p after "
                f"{rec['runs']} runs on fresh seeds: raise verification.batches to decide it"
            )
            lines.append(f"  undecided when the verification's batches ran out: {', '.join(rec['undecided'])}")
            lines += _claim_lines(spec, rec, set_name)
        else:
            binding = rec["binding_goal"]
            goal = spec.goals[binding]
            lines.append(
                f"goal set {set_name} ({goals}): no mix{cap} meets the goals with probability "
                f">= {spec.probability}: the best reached {format_percent(rec['probability'])} "
                f"({rec['candidate']}), and {binding} binds (met in {format_percent(rec[binding + '_p'])} of its "
                f"runs, mean {format_value(goal.indicator, rec[binding + '_mean'])} against "
                f"{goal.target_text()}): {EXPLAIN}"
            )
            if rec.get("undecided"):
                lines.append(f"  undecided when the verification's batches ran out: {', '.join(rec['undecided'])}")
            lines += _claim_lines(spec, rec, set_name)
    return "\n".join(lines)


def _claim_lines(spec, rec: dict, set_name: str) -> list[str]:
    mix = ", ".join(
        f"{lever.key[len('levers.') :]} = {rec[lever.key] if lever.is_choice else _number(rec[lever.key])}"
        for lever in spec.levers
    )
    lines = [
        f"  mix: {mix}",
        f"  probability of meeting every goal, fresh seeds: {rec['probability']:.3f} "
        f"({rec['p_low']:.3f} to {rec['p_high']:.3f}; {rec['runs']} runs, {rec['worlds']} draws): {rec['verdict']}",
        f"  fiscal cost by month {spec.months}: {format_value(SPEND, rec['cost_usd'])} USD "
        f"({format_value(SPEND, rec['cost_low'])} to {format_value(SPEND, rec['cost_high'])})",
    ]
    for goal in spec.goal_sets[set_name]:
        indicator = spec.goals[goal].indicator
        change = rec.get(f"{goal}_vs_baseline")
        versus = (
            ""
            if change is None or not math.isfinite(change)
            else f"; {format_value(indicator, change)} over the baseline "
            f"({format_value(indicator, rec[f'{goal}_vs_baseline_low'])} to "
            f"{format_value(indicator, rec[f'{goal}_vs_baseline_high'])}, paired)"
        )
        lines.append(
            f"  {goal} ({spec.goals[goal].label}): mean {format_value(indicator, rec[f'{goal}_mean'])}, "
            f"met in {format_percent(rec[f'{goal}_p'])} of runs{versus}"
        )
    return lines


def _number(value) -> str:
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:g}"


def _figure(result: SearchResult, path) -> None:
    """Cost against the probability of each goal set, and against each goal's indicator."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    spec, table = result.spec, result.candidates
    panels = len(spec.goal_sets) + len(spec.goals)
    fig, axes = plt.subplots(1, panels, figsize=(5.0 * panels, 4.5), squeeze=False)
    cost = table["cost_usd"] / 1e6
    for ax, set_name in zip(axes[0], spec.goal_sets, strict=False):
        on = table[f"{set_name}_frontier"]
        ax.scatter(cost, table[f"{set_name}_p"], s=18, color="0.6", label="candidates")
        front = table[on].sort_values("cost_usd")
        ax.step(front["cost_usd"] / 1e6, front[f"{set_name}_p"], where="post", color="C0", label="frontier")
        ax.axhline(spec.probability, color="C3", linestyle="--", label=f"p = {spec.probability}")
        rec = result.recommendations[set_name]
        if rec.get("found"):
            ax.scatter([rec["cost_usd"] / 1e6], [rec["probability"]], marker="*", s=160, color="C2", label="verified")
        ax.set(xlabel=f"fiscal cost by month {spec.months} (USD m)", ylabel="P(every goal met)", title=set_name)
        ax.set_ylim(-0.03, 1.03)
        ax.legend(fontsize=8)
    for ax, (name, goal) in zip(axes[0][len(spec.goal_sets) :], spec.goals.items(), strict=False):
        ax.scatter(cost, table[f"{name}_mean"], s=18, color="0.4")
        for bound in (goal.at_least, goal.at_most):
            if bound is not None:
                ax.axhline(bound, color="C3", linestyle="--")
        ax.set(xlabel=f"fiscal cost by month {spec.months} (USD m)", ylabel=f"{goal.indicator} (mean)", title=name)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=80)
    plt.close(fig)
