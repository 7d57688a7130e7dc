"""Scenario discovery (`smesim discover DIR`): where in the uncertainty space a policy fails a
goal (or meets it), read from the runs of a sweep or a search directory.

Two views of the same runs: the policy's runs, X the values of the design's uncertainties
(every factor that is not a lever setting), y 1 where the run is "of interest" (the goal
missed; with `fails=False`, met).

- PRIM (Friedman and Fisher 1999, "Bump hunting in high-dimensional data"): start from the box
  holding every run; at each step, try to peel off the `alpha` share of the runs still in the
  box at the low or the high end of each uncertainty, and keep the peel that leaves the
  highest share of runs of interest inside; stop when the box holds fewer than `min_support`
  of the runs or no peel is possible. Each step of this peeling trajectory is a box with
  (Bryant and Lempert 2010, "Thinking inside the box")
    coverage = runs of interest inside / all runs of interest,
    density  = runs of interest inside / runs inside,
    support  = runs inside / all runs,
  and one chooses along the trade-off between coverage and density. The box suggested is the
  densest whose coverage is at least MIN_COVERAGE. No pasting step: the trajectory is shown
  as peeled.
- CART: a shallow classification tree (scikit-learn's DecisionTreeClassifier, depth 3,
  leaves of at least 5% of the runs, random_state 0), printed with export_text.

A search directory holds several stores (its rounds and verification batches): their runs of
the policy are read together, a world being a store's draw.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.analysis.runs_table import factor_columns, goal_met, ok_runs
from experiments.analysis.sweep_data import read_series_at, sweep_goals
from experiments.errors import FlagError, InputFileError, unknown_name
from experiments.files import atomic_path, write_csv_atomically
from experiments.sweeps.store import is_sweep_directory, read_manifest, read_runs

__all__ = [
    "MIN_COVERAGE",
    "Discovery",
    "PrimBox",
    "box_table",
    "cart_tree",
    "chosen_box",
    "discover",
    "format_discovery",
    "prim",
    "sweep_directories",
    "trajectory_table",
    "write_discovery",
]

MIN_COVERAGE = 0.5
TREE_DEPTH = 3
TREE_LEAF_SHARE = 0.05


@dataclass(frozen=True)
class PrimBox:
    """One step of the peeling trajectory: the box's bounds (factor -> (low, high)) and its statistics."""

    step: int
    bounds: dict[str, tuple[float, float]]
    coverage: float
    density: float
    support: float
    runs: int
    restricted: tuple[str, ...]  # the factors whose range the box narrows


def prim(x: pd.DataFrame, y: np.ndarray, alpha: float = 0.05, min_support: float = 0.05) -> list[PrimBox]:
    """The peeling trajectory (module doc) of the runs `x` (one column per uncertainty) with
    outcome `y` (1 of interest, 0 not)."""
    y = np.asarray(y, dtype=float)
    values = x.to_numpy(float)
    full = {c: (float(values[:, j].min()), float(values[:, j].max())) for j, c in enumerate(x.columns)}
    inside, bounds = np.ones(len(y), bool), dict(full)
    total = max(float(y.sum()), 1e-300)
    trajectory = [_box(0, bounds, full, inside, y, total)]
    while inside.mean() > min_support:
        best = None
        for j, column in enumerate(x.columns):
            for side in ("low", "high"):
                kept = _peel(values[:, j], inside, alpha, side)
                removed = inside.sum() - kept.sum()
                if removed == 0 or kept.mean() < min_support or not kept.any():
                    continue
                score = (y[kept].mean(), -removed)  # the densest box, then the smaller peel
                if best is None or score > best[0]:
                    best = (score, column, j, kept)
        if best is None:
            break
        _, column, j, inside = best
        bounds = {**bounds, column: (float(values[inside, j].min()), float(values[inside, j].max()))}
        trajectory.append(_box(len(trajectory), bounds, full, inside, y, total))
    return trajectory


def _peel(column: np.ndarray, inside: np.ndarray, alpha: float, side: str) -> np.ndarray:
    """The runs left inside after peeling the `alpha` share at one end of a column; where ties
    make that share peel nothing (replicates of a draw share its values), the extreme value's runs."""
    v = column[inside]
    if side == "low":
        kept = inside & (column >= np.quantile(v, alpha))
        return kept if kept.sum() < inside.sum() else inside & (column > v.min())
    kept = inside & (column <= np.quantile(v, 1 - alpha))
    return kept if kept.sum() < inside.sum() else inside & (column < v.max())


def _box(step: int, bounds: dict, full: dict, inside: np.ndarray, y: np.ndarray, total: float) -> PrimBox:
    restricted = tuple(c for c in bounds if bounds[c] != full[c])
    interest = float(y[inside].sum())
    return PrimBox(
        step,
        bounds,
        interest / total,
        interest / max(int(inside.sum()), 1),
        float(inside.mean()),
        int(inside.sum()),
        restricted,
    )


def chosen_box(trajectory: Sequence[PrimBox]) -> PrimBox:
    """The densest box whose coverage is at least MIN_COVERAGE (the first of equals)."""
    eligible = [b for b in trajectory if b.coverage >= MIN_COVERAGE] or [trajectory[0]]
    return max(eligible, key=lambda b: (b.density, -b.step))


def cart_tree(x: pd.DataFrame, y: np.ndarray) -> str:
    """A shallow classification tree of y over x, as text."""
    from sklearn.tree import DecisionTreeClassifier, export_text

    leaf = max(1, math.ceil(TREE_LEAF_SHARE * len(y)))
    tree = DecisionTreeClassifier(max_depth=TREE_DEPTH, min_samples_leaf=leaf, random_state=0)
    tree.fit(x.to_numpy(float), np.asarray(y, dtype=int))
    return export_text(tree, feature_names=list(x.columns), show_weights=True, decimals=4)


# --- reading a directory --------------------------------------------------------------------


def sweep_directories(directory: Path) -> list[Path]:
    """The directory itself if it is a sweep's, else the sweep directories in it, two levels deep
    (a search's rounds and verification batches)."""
    directory = Path(directory)
    if is_sweep_directory(directory):
        return [directory]
    found = sorted(p for p in [*directory.glob("*"), *directory.glob("*/*")] if is_sweep_directory(p))
    if not found:
        raise InputFileError(
            str(directory), None, "is neither a sweep directory nor holds any (no manifest.json and runs/)"
        )
    return found


@dataclass
class Discovery:
    directory: Path
    policy: str
    goal: str
    label: str
    fails: bool
    factors: list[str]
    runs: int
    of_interest: int
    trajectory: list[PrimBox]
    chosen: PrimBox
    tree: str


def discover(
    directory: Path, policy: str, goal: str, fails: bool = True, alpha: float = 0.05, min_support: float = 0.05
) -> Discovery:
    """PRIM and CART (module doc) for `policy` and `goal` on the runs of `directory`."""
    for flag, value, top in (("--alpha", alpha, 0.5), ("--min-support", min_support, 1.0)):
        if not 0 < value < top:
            raise FlagError(flag, f"must lie in (0, {top}), got {value!r}")
    frames, labels, policies = [], None, set()
    for store in sweep_directories(directory):
        manifest = read_manifest(store) or {}
        goals = sweep_goals(manifest, str(store / "manifest.json"))
        if goal not in goals:
            raise FlagError("--goal", unknown_name(goal, goals, f"goal of {store}"))
        runs = ok_runs(read_runs(store, require=True))
        policies |= set(runs["policy"])
        runs = runs[runs["policy"] == policy]
        if not len(runs):
            continue
        met = goal_met(runs, goals[goal], read_series_at(store, {goal: goals[goal]}))
        levers = {k for k in (manifest.get("spec") or {}).get("factors", {}) if k.startswith("levers.")}
        columns = [c for c in factor_columns(runs) if c not in levers and not c.startswith("levers.")]
        frames.append(runs[columns].assign(_met=met.to_numpy()))
        labels = goals[goal].label
    if not frames:
        raise FlagError("--policy", unknown_name(policy, sorted(policies), "policy"))
    data = pd.concat(frames, ignore_index=True).dropna(subset=["_met"])
    factors = [c for c in data.columns if c != "_met" and data[c].notna().all() and data[c].nunique() > 1]
    if not factors:
        raise InputFileError(str(directory), None, "its runs vary no uncertainty: nothing to discover over")
    y = (data["_met"].to_numpy() == 0.0) if fails else (data["_met"].to_numpy() == 1.0)
    trajectory = prim(data[factors], y.astype(float), alpha, min_support)
    return Discovery(
        Path(directory),
        policy,
        goal,
        labels or goal,
        fails,
        factors,
        len(data),
        int(y.sum()),
        trajectory,
        chosen_box(trajectory),
        cart_tree(data[factors], y),
    )


# --- output ---------------------------------------------------------------------------------


def trajectory_table(found: Discovery) -> pd.DataFrame:
    rows = []
    for box in found.trajectory:
        row = {
            "step": box.step,
            "coverage": box.coverage,
            "density": box.density,
            "support": box.support,
            "runs": box.runs,
            "restricted": len(box.restricted),
        }
        for factor in found.factors:
            row[f"{factor}:low"], row[f"{factor}:high"] = box.bounds[factor]
        rows.append(row)
    return pd.DataFrame(rows)


def box_table(found: Discovery) -> pd.DataFrame:
    full = found.trajectory[0].bounds
    return pd.DataFrame(
        [
            {
                "factor": factor,
                "low": found.chosen.bounds[factor][0],
                "high": found.chosen.bounds[factor][1],
                "range_low": full[factor][0],
                "range_high": full[factor][1],
                "restricted": factor in found.chosen.restricted,
            }
            for factor in found.factors
        ]
    )


def write_discovery(found: Discovery, out: Path) -> None:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    write_csv_atomically(trajectory_table(found), out / "prim_trajectory.csv", index=False)
    write_csv_atomically(box_table(found), out / "prim_box.csv", index=False)
    with atomic_path(out / "cart.txt") as tmp:
        tmp.write_text(found.tree, encoding="utf-8")
    _figure(found, out / "peeling.png")
    with atomic_path(out / "summary.txt") as tmp:
        tmp.write_text(format_discovery(found, out) + "\n", encoding="utf-8")


def format_discovery(found: Discovery, out: Path) -> str:
    what = "fails" if found.fails else "meets"
    box = found.chosen
    lines = [
        f"{found.policy} {what} {found.goal} ({found.label}) in {found.of_interest} of {found.runs} runs "
        f"({found.of_interest / max(found.runs, 1):.0%}), over {', '.join(found.factors)}",
    ]
    if not found.of_interest:
        lines.append(f"no run {what} the goal: no box to find")
    else:
        lines.append(
            f"PRIM box (step {box.step} of {len(found.trajectory) - 1}): coverage {box.coverage:.0%}, "
            f"density {box.density:.0%}, {box.runs} runs ({box.support:.0%})"
        )
        for factor in box.restricted or ():
            low, high = box.bounds[factor]
            lines.append(f"  {factor} in [{low:.4g}, {high:.4g}]")
        if not box.restricted:
            lines.append("  no uncertainty narrows it: the outcome does not concentrate in a box")
    lines.append(f"tables, tree and figure in {out}")
    return "\n".join(lines)


def _figure(found: Discovery, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = trajectory_table(found)
    fig, ax = plt.subplots(figsize=(6.0, 4.5))
    points = ax.scatter(table["coverage"], table["density"], c=table["restricted"], cmap="viridis", s=20)
    ax.plot(table["coverage"], table["density"], color="0.7", linewidth=0.8, zorder=0)
    ax.scatter([found.chosen.coverage], [found.chosen.density], marker="*", s=160, color="C3", label="chosen box")
    fig.colorbar(points, ax=ax, label="uncertainties restricted")
    ax.set(xlabel="coverage", ylabel="density", title=f"PRIM peeling: {found.policy}, {found.goal}")
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.legend(fontsize=8)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=80)
    plt.close(fig)
