"""`smesim report DIR`: one self-contained HTML report of a run, a comparison or a sweep.

DIR is
- a run directory of `smesim run` (indicators.parquet + manifest.json): one scenario, its
  replications;
- a comparison directory: several run directories (like the demo's results/demo/); the one
  named "baseline", else the first by name, is the reference, and the others are compared with
  it replication by replication (the same seed: paired differences, t intervals);
- a sweep directory (runs/, series/, manifest.json): policies compared with the baseline by
  `experiments.analysis.compare`, and Sobol indices (`analysis.sensitivity`) when the design
  is Sobol.

The report (default DIR/report/report.html) embeds every figure as a base64 PNG and loads
nothing from elsewhere; the same figures are written beside it as fig-*.png, each FIGSIZE
inches at DPI (1000 x 600 pixels). Figures hold no words of either language in Persian
reports: matplotlib cannot shape Arabic script, so the PNGs then carry numbers, unit symbols
(10⁹ $, %) and data names only, and the translated titles and axis descriptions are in the
HTML captions. English reports have English axis labels in the figures as well.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from experiments import analysis  # noqa: E402
from experiments.errors import ScenarioError  # noqa: E402
from experiments.files import atomic_path  # noqa: E402
from experiments.goals import Goal, load_goals, merge  # noqa: E402
from experiments.replay import is_run_directory, read_run_manifest, run_directories  # noqa: E402
from experiments.report_text import Words, persian_digits  # noqa: E402
from experiments.runner import INDICATORS_FILE  # noqa: E402
from simulation.errors import InputError  # noqa: E402
from simulation.policy import Policy  # noqa: E402

FIGSIZE = (10.0, 6.0)  # inches
DPI = 100  # so every PNG is 1000 x 600 pixels
PIXELS = (int(FIGSIZE[0] * DPI), int(FIGSIZE[1] * DPI))
CONFIDENCE = 0.95
BOOTSTRAP = 200
QUANTILE_BAND_ABOVE = 20  # more members than this: a 5-95% band instead of min-max
REPORT_DIR, REPORT_FILE = "report", "report.html"
COLOURS = plt.get_cmap("tab10").colors


# --- the data of a report ----------------------------------------------------------------------


@dataclass
class ReportData:
    kind: str  # "run", "comparison" or "sweep"
    directory: Path
    groups: list[str]  # scenarios or policies, the reference first
    series: pd.DataFrame  # group, member, month and the indicators
    goals: dict[str, Goal]
    horizon: int
    scale: float
    goal_rows: list[dict] = field(default_factory=list)  # per goal and group
    diffs: list[dict] = field(default_factory=list)  # per group (not the reference) and goal indicator, at the horizon
    sensitivity: pd.DataFrame | None = None
    inputs: list[tuple[str, list[tuple[str, str]]]] = field(default_factory=list)
    provenance: list[tuple[str, list[tuple[str, str]]]] = field(default_factory=list)

    @property
    def reference(self) -> str:
        return self.groups[0]

    @property
    def members(self) -> int:
        return int(self.series.groupby("group")["member"].nunique().min())


def load(directory: Path) -> ReportData:
    directory = Path(directory)
    if not directory.is_dir():
        raise ScenarioError(str(directory), None, "no such directory")
    if (directory / analysis.RUNS_DIR).is_dir():
        return _load_sweep(directory)
    return _load_runs(directory)


def _goals_of(manifest: dict, source: str) -> dict[str, Goal]:
    table = ((manifest.get("scenario") or {}).get("validated") or {}).get("goals")
    try:
        return merge(table) if table else load_goals()
    except InputError as error:
        raise ScenarioError(source, f"scenario.validated.goals.{error.key}", error.message) from None


def _load_runs(directory: Path) -> ReportData:
    runs = run_directories(directory)
    kind = "run" if is_run_directory(directory) else "comparison"
    frames, manifests = {}, {}
    for run in runs:
        manifests[run.name] = read_run_manifest(run)
        try:
            frames[run.name] = pd.read_parquet(run / INDICATORS_FILE)
        except Exception as error:  # noqa: BLE001 - an unreadable file is bad input
            raise ScenarioError(str(run / INDICATORS_FILE), None, f"cannot read the indicators: {error}") from None
    groups = list(frames)
    if kind == "run":
        groups = [manifests[runs[0].name]["scenario"].get("name") or runs[0].name]
        frames = {groups[0]: frames[runs[0].name]}
        manifests = {groups[0]: manifests[runs[0].name]}
    series = pd.concat([f.assign(group=g, member=f["replication"]) for g, f in frames.items()], ignore_index=True)
    reference = groups[0]
    goals = _goals_of(manifests[reference], str(runs[0] / "manifest.json"))
    horizon = int(series["month"].max())
    data = ReportData(kind, directory, groups, series, goals, horizon, float(manifests[reference].get("scale", 1.0)))

    for goal in goals.values():
        month = goal.month_for(horizon)
        at = {g: series[(series["group"] == g) & (series["month"] == month)].set_index("member")[goal.indicator]
              for g in groups}
        for g in groups:
            values = at[g].dropna()
            row = _value_row(goal, g, month, values)
            if g != reference and len(values):
                both = at[reference].index.intersection(at[g].index)
                n, mean, _, low, high = analysis.mean_interval((at[g][both] - at[reference][both]).to_numpy(),
                                                               CONFIDENCE)
                row.update(change=mean, change_low=low, change_high=high, pairs=n)
            data.goal_rows.append(row)
    last = series[series["month"] == horizon]
    for g in groups[1:]:
        for indicator in _goal_indicators(goals):
            a = last[last["group"] == reference].set_index("member")[indicator]
            b = last[last["group"] == g].set_index("member")[indicator]
            both = a.index.intersection(b.index)
            n, mean, _, low, high = analysis.mean_interval((b[both] - a[both]).to_numpy(), CONFIDENCE)
            data.diffs.append({"group": g, "indicator": indicator, "pairs": n, "difference": mean,
                               "ci_low": low, "ci_high": high})
    for g, run in zip(groups, runs):
        data.inputs.append((g, _scenario_inputs(manifests[g] if kind == "run" else manifests[run.name])))
        data.provenance.append((g, _run_provenance(manifests[g] if kind == "run" else manifests[run.name], run)))
    return data


def _value_row(goal: Goal, group: str, month: int, values: pd.Series) -> dict:
    met = int(sum(goal.is_met(float(v)) for v in values))
    n = len(values)
    low, high = analysis.wilson_interval(met, n, CONFIDENCE)
    return {"goal": goal.name, "group": group, "month": month, "n": n, "met": met,
            "mean": float(values.mean()) if n else math.nan, "min": float(values.min()) if n else math.nan,
            "max": float(values.max()) if n else math.nan, "probability": met / n if n else math.nan,
            "p_low": low, "p_high": high}


def _goal_indicators(goals: dict[str, Goal]) -> list[str]:
    return list(dict.fromkeys(g.indicator for g in goals.values()))


def _load_sweep(directory: Path) -> ReportData:
    runs = analysis.read_runs(directory)
    manifest = analysis.read_manifest(directory)
    source = str(directory / analysis.MANIFEST)
    goals = analysis.sweep_goals(manifest, source)
    baseline = analysis.default_baseline(runs, manifest)
    good = analysis.ok_runs(runs)
    series_dir = directory / analysis.SERIES_DIR
    if not series_dir.is_dir():
        raise ScenarioError(str(directory), None, f"no {analysis.SERIES_DIR}/ directory: not a complete sweep")
    series = pd.read_parquet(series_dir)
    series = series.merge(good[["run_id", "policy"]], on="run_id").rename(columns={"policy": "group",
                                                                                     "run_id": "member"})
    policies = sorted(good["policy"].unique())
    groups = [baseline] + [p for p in policies if p != baseline] if baseline in policies else policies
    horizon = int(series["month"].max())
    spec = manifest.get("spec") or {}
    data = ReportData("sweep", directory, groups, series, goals, horizon, float(spec.get("scale", 1.0)))
    try:
        result = analysis.compare(runs, goals, groups[0], CONFIDENCE, series=analysis.read_series_at(directory, goals),
                                  indicators=_goal_indicators(goals), n_bootstrap=BOOTSTRAP)
    except ScenarioError as error:
        raise ScenarioError(str(directory), error.key, error.message) from None
    for goal in goals.values():
        month = goal.month_for(horizon)
        for g in groups:
            values = series[(series["group"] == g) & (series["month"] == month)][goal.indicator].dropna()
            row = _value_row(goal, g, month, values)
            found = result["goals"][(result["goals"]["policy"] == g) & (result["goals"]["goal"] == goal.name)]
            if len(found):
                r = found.iloc[0]
                row.update(probability=r["probability"], p_low=r["ci_low"], p_high=r["ci_high"])
            data.goal_rows.append(row)
    for _, r in result["compare"].iterrows():
        data.diffs.append({"group": r["policy"], "indicator": r["indicator"], "pairs": int(r["pairs"]),
                           "difference": r["difference"], "ci_low": r["ci_low"], "ci_high": r["ci_high"]})
    blocks = runs["design_block"].astype(str) if "design_block" in runs.columns else pd.Series(dtype=str)
    factors = analysis.sweep_factors(runs, manifest)
    if factors and blocks.isin(["A", "B"]).any():
        try:
            data.sensitivity = pd.concat([analysis.sensitivity(good, factors, name, BOOTSTRAP, CONFIDENCE)
                                          for name in _goal_indicators(goals) if name in runs.columns],
                                         ignore_index=True)
        except ScenarioError as error:
            raise ScenarioError(str(directory), error.key, error.message) from None
    data.inputs.append(("spec", _flatten({k: v for k, v in spec.items() if k not in ("goals",)})))
    data.provenance.append((directory.name, _flatten({k: v for k, v in manifest.items() if k != "spec"})))
    return data


def _scenario_inputs(manifest: dict) -> list[tuple[str, str]]:
    validated = (manifest.get("scenario") or {}).get("validated") or {}
    rows = [("settings", f"seed {manifest.get('seed')}, {manifest.get('replications')} replications, "
                         f"{manifest.get('months')} months, scale {manifest.get('scale')}")]
    if manifest.get("command_line_overrides"):
        rows.append(("settings", "command line: " + _compact(manifest["command_line_overrides"])))
    defaults = Policy.from_dict({}).to_dict()
    changed = [f"{lever}.{key} = {_compact(value)}" for lever, settings in (validated.get("levers") or {}).items()
               for key, value in settings.items() if defaults.get(lever, {}).get(key) != value]
    rows.append(("levers", "; ".join(changed) if changed else "none"))
    for section in ("uncertainties", "constants"):
        values = validated.get(section) or {}
        rows.append((section, "; ".join(f"{k} = {_compact(v)}" for k, v in values.items()) if values else "none"))
    shocks = validated.get("shocks") or []
    rows.append(("shocks", "; ".join(_compact(s) for s in shocks) if shocks else "none"))
    return rows


def _run_provenance(manifest: dict, run: Path) -> list[tuple[str, str]]:
    scenario = manifest.get("scenario") or {}
    keep = {"directory": str(run), "scenario file": scenario.get("file"), "scenario sha256": scenario.get("sha256")}
    keep.update({k: manifest.get(k) for k in ("seed", "model_seeds", "replications", "months", "scale", "command",
                                              "git", "versions", "started", "finished", "wall_seconds", "files")})
    return _flatten(keep)


def _compact(value) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def _flatten(data: dict, prefix: str = "") -> list[tuple[str, str]]:
    rows = []
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value and len(json.dumps(value)) > 80:
            rows += _flatten(value, name + ".")
        else:
            text = _compact(value)
            rows.append((name, text if len(text) <= 400 else text[:400] + " …"))
    return rows


# --- figures -------------------------------------------------------------------------------------


def _unit(indicator: str, values, words: Words | None, difference: bool = False) -> tuple[float, str]:
    """(divisor, axis unit): USD in bn or m, shares in % (differences in percentage points),
    counts as they are or in thousands. `words` None: symbols only (Persian reports)."""
    top = float(np.nanmax(np.abs(values))) if len(values) and np.isfinite(values).any() else 0.0
    if indicator.endswith("_usd") and not indicator.endswith("_per_usd"):
        for size, key, symbol in ((1e9, "unit_usd_bn", "10⁹ $"), (1e6, "unit_usd_m", "10⁶ $")):
            if top >= size:
                return size, words(key) if words else symbol
        return 1.0, words("unit_usd") if words else "$"
    if indicator.endswith("share"):
        return 0.01, (words("unit_pp") if difference else "%") if words else ("Δ %" if difference else "%")
    if top >= 1e4:
        return 1e3, words("unit_count_k") if words else "10³"
    return 1.0, words("unit_count") if words else "#"


def _save(fig, path: Path) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    plt.close(fig)
    png = buffer.getvalue()
    with atomic_path(path) as tmp:
        tmp.write_bytes(png)
    return png


def _grid(n: int):
    cols = 1 if n == 1 else 2
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=FIGSIZE, dpi=DPI, squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:n])


def _panel_title(i: int, text: str, words: Words | None) -> str:
    return f"({i}) {text}" if words else f"({i})"


def fig_trajectories(data: ReportData, words: Words | None) -> tuple[object, list[str]]:
    goals = list(data.goals.values())
    fig, axes = _grid(len(goals))
    units = []
    quantile = data.members > QUANTILE_BAND_ABOVE
    for i, (ax, goal) in enumerate(zip(axes, goals), start=1):
        size, unit = _unit(goal.indicator, data.series[goal.indicator].to_numpy(dtype=float), words)
        units.append(unit)
        for j, group in enumerate(data.groups):
            own = data.series[data.series["group"] == group].groupby("month")[goal.indicator]
            low, high = (own.quantile(0.05), own.quantile(0.95)) if quantile else (own.min(), own.max())
            colour = COLOURS[j % len(COLOURS)]
            ax.fill_between(low.index, low / size, high / size, color=colour, alpha=0.2, linewidth=0)
            ax.plot(own.mean().index, own.mean() / size, color=colour, label=group)
        for bound in (goal.at_least, goal.at_most):
            if bound is not None:
                ax.axhline(bound / size, color="black", linestyle="--", linewidth=1)
        if goal.month_for(data.horizon) <= data.horizon:
            ax.axvline(goal.month_for(data.horizon), color="grey", linestyle=":", linewidth=1)
        ax.set_title(_panel_title(i, goal.label, words), fontsize=10)
        ax.set_xlabel(words("axis_month") if words else "t")
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        ax.set_ylabel(unit)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    return fig, units


def fig_comparison(data: ReportData, words: Words | None) -> tuple[object, list[str]]:
    indicators = _goal_indicators(data.goals)
    fig, axes = _grid(len(indicators))
    units = []
    others = data.groups[1:]
    for i, (ax, indicator) in enumerate(zip(axes, indicators), start=1):
        rows = [d for d in data.diffs if d["indicator"] == indicator]
        by_group = {d["group"]: d for d in rows}
        values = np.array([[by_group[g][k] for k in ("difference", "ci_low", "ci_high")] for g in others
                           if g in by_group], dtype=float)
        size, unit = _unit(indicator, values.ravel() if values.size else np.array([0.0]), words, difference=True)
        units.append(unit)
        ys = np.arange(len(others))
        for y, g in zip(ys, others):
            d = by_group.get(g)
            if d is None or not math.isfinite(d["difference"]):
                continue
            low, high = d["ci_low"], d["ci_high"]
            err = None if not (math.isfinite(low) and math.isfinite(high)) else \
                [[(d["difference"] - low) / size], [(high - d["difference"]) / size]]
            ax.barh(y, d["difference"] / size, xerr=err, color=COLOURS[(list(data.groups).index(g)) % 10],
                    capsize=4, alpha=0.8)
        ax.axvline(0, color="black", linewidth=1)
        ax.set_yticks(ys, others, fontsize=8)
        ax.set_title(_panel_title(i, words.indicator(indicator) if words else "", words), fontsize=10)
        ax.set_xlabel(words("axis_difference", unit=unit) if words else f"Δ {unit}")
        ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    return fig, units


def fig_goals(data: ReportData, words: Words | None) -> object:
    goals = list(data.goals.values())
    fig, ax = plt.subplots(figsize=FIGSIZE, dpi=DPI)
    width = 0.8 / max(1, len(data.groups))
    for j, group in enumerate(data.groups):
        rows = {r["goal"]: r for r in data.goal_rows if r["group"] == group}
        for i, goal in enumerate(goals):
            r = rows.get(goal.name)
            if r is None or not r["n"]:
                continue
            y = i + (j - (len(data.groups) - 1) / 2) * width
            p, low, high = 100 * r["probability"], 100 * r["p_low"], 100 * r["p_high"]
            ax.errorbar(p, y, xerr=[[p - low], [high - p]], fmt="o", color=COLOURS[j % 10], capsize=4,
                        label=group if i == 0 or not any(rows.get(g.name, {}).get("n") for g in goals[:i]) else None)
    ax.set_yticks(range(len(goals)), [f"({i}) {g.label}" if words else f"({i})"
                                      for i, g in enumerate(goals, start=1)], fontsize=9)
    ax.invert_yaxis()
    ax.set_xlim(-5, 105)
    ax.set_xlabel(words("axis_probability") if words else "%")
    ax.grid(alpha=0.3, axis="x")
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def fig_sensitivity(data: ReportData, words: Words | None) -> object:
    frame = data.sensitivity
    outcomes = list(dict.fromkeys(frame["outcome"]))
    fig, axes = _grid(len(outcomes))
    for i, (ax, outcome) in enumerate(zip(axes, outcomes), start=1):
        own = frame[(frame["outcome"] == outcome) & (frame["policy"] == data.reference)]
        if own.empty:
            own = frame[frame["outcome"] == outcome].drop_duplicates("factor")
        ys = np.arange(len(own))
        for k, (column, label, shift) in enumerate((("first_order", "S1", -0.2), ("total_order", "ST", 0.2))):
            values = own[column].to_numpy(dtype=float)
            low, high = own[f"{column}_low"].to_numpy(dtype=float), own[f"{column}_high"].to_numpy(dtype=float)
            err = np.vstack([np.clip(values - low, 0, None), np.clip(high - values, 0, None)])
            err = np.where(np.isfinite(err), err, 0.0)
            ax.barh(ys + shift, values, height=0.4, xerr=err, color=COLOURS[k], capsize=3, label=label)
        ax.set_yticks(ys, [f.split(".")[-1] for f in own["factor"]], fontsize=8)
        ax.axvline(0, color="black", linewidth=1)
        ax.set_title(_panel_title(i, outcome, words), fontsize=10)
        ax.set_xlabel(words("axis_index") if words else "S")
        ax.grid(alpha=0.3, axis="x")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    return fig


# --- HTML ----------------------------------------------------------------------------------------

STYLE = """
body { font-family: "Vazirmatn", "Noto Sans Arabic", "Tahoma", "Segoe UI", sans-serif; max-width: 1080px;
       margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.5; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; vertical-align: top; }
th { background: #f2f2f2; }
figure { margin: 1.5em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 0.9em; color: #444; }
code { font-size: 0.85em; direction: ltr; unicode-bidi: embed; word-break: break-all; }
.summary li { margin-bottom: 0.4em; }
"""


def _e(text) -> str:
    return html.escape(str(text))


def _table(header: list[str], rows: list[list[str]], raw: bool = False) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c if raw else _e(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _summary(data: ReportData, w: Words) -> list[str]:
    sweep = data.kind == "sweep"
    member_word, group_word = w("member_sweep" if sweep else "member_run"), w("group_sweep" if sweep else "group_run")
    items = [w("caveat", members=data.members, member_word=member_word, group_word=group_word, scale=data.scale,
               months=data.horizon)]
    for goal in data.goals.values():
        rows = {r["group"]: r for r in data.goal_rows if r["goal"] == goal.name}
        ref = rows[data.reference]
        if not ref["n"]:
            items.append(w("goal_unchecked", goal=w.goal(goal), horizon=data.horizon, month=ref["month"]))
            continue
        parts = [w("goal_state", goal=w.goal(goal), target=w.target(goal), month=ref["month"], group=data.reference,
                   met=ref["met"], n=ref["n"], member_word=member_word, value=w.value(goal.indicator, ref["mean"]))]
        for group in data.groups[1:]:
            r = rows[group]
            if sweep:
                parts.append(w("goal_change_sweep", group=group, met=r["met"], n=r["n"],
                               value=w.value(goal.indicator, r["mean"]), probability=w.percent(r["probability"]),
                               confidence=CONFIDENCE, low=w.percent(r["p_low"]), high=w.percent(r["p_high"])))
                continue
            parts.append(w("goal_change", group=group, met=r["met"], n=r["n"], value=w.value(goal.indicator, r["mean"]),
                           change=w.change(goal.indicator, r.get("change", math.nan)), reference=data.reference,
                           confidence=CONFIDENCE, low=w.change(goal.indicator, r.get("change_low", math.nan)),
                           high=w.change(goal.indicator, r.get("change_high", math.nan))))
            low, high = r.get("change_low", math.nan), r.get("change_high", math.nan)
            if math.isfinite(low) and math.isfinite(high):
                parts.append(w("not_distinguishable") if low <= 0 <= high else w("distinguishable"))
        items.append(" ".join(parts))
    if data.members < 5:
        items.append(w("few_members", n=data.members, member_word=member_word))
    return items


def _goal_table(data: ReportData, w: Words) -> str:
    sweep = data.kind == "sweep"
    header = [w("col_goal"), w("col_target"), w("col_month"), w("col_group"), w("col_value"), w("col_met"),
              w("col_probability") if sweep else w("col_change")]
    rows = []
    for goal in data.goals.values():
        for r in (r for r in data.goal_rows if r["goal"] == goal.name):
            if not r["n"]:
                rows.append([w.goal(goal), w.target(goal), r["month"], r["group"], w("not_checked"), "", ""])
                continue
            if sweep:
                last = f"{w.percent(r['probability'])} ({w.percent(r['p_low'])} {w('to')} {w.percent(r['p_high'])})"
            elif r["group"] == data.reference:
                last = w("reference")
            else:
                last = w.range(goal.indicator, r.get("change", math.nan), r.get("change_low", math.nan),
                               r.get("change_high", math.nan), fmt=w.change)
            rows.append([w.goal(goal), w.target(goal), r["month"], r["group"],
                         w.range(goal.indicator, r["mean"], r["min"], r["max"]), w("met_of", met=r["met"], n=r["n"]),
                         last])
    return _table(header, rows)


def _figure(png: bytes, name: str, caption: str, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return (f'<figure id="{_e(name)}"><img src="data:image/png;base64,{data}" alt="{_e(alt)}" '
            f'width="{PIXELS[0]}" height="{PIXELS[1]}"><figcaption>{caption}</figcaption></figure>')


def _panels(w: Words, names: list[str], units: list[str] | None = None) -> str:
    items = "; ".join(f"({i}) {_e(n)}" + (f" [{_e(u)}]" if units else "")
                      for i, (n, u) in enumerate(zip(names, units or names), start=1))
    return f"<br>{_e(w('panels'))}: {items}"


def build_report(directory: Path | str, lang: str = "en", digits: str = "latin", out: Path | str | None = None) -> Path:
    """Write the report of `directory` (see the module doc) and its figures; return the HTML path."""
    w = Words(lang)
    if digits not in ("latin", "persian"):
        raise ScenarioError(None, "--digits", f"must be latin or persian, got {digits!r}")
    directory = Path(directory)
    data = load(directory)
    out = Path(out) if out is not None else directory / REPORT_DIR / REPORT_FILE
    if out.exists() and out.is_dir():
        raise ScenarioError(str(out), "--out", "must be a file name, got a directory")
    fig_dir = out.parent
    words = w if lang == "en" else None  # Persian: no words inside the images
    sweep = data.kind == "sweep"
    member_word, group_word = w("member_sweep" if sweep else "member_run"), w("group_sweep" if sweep else "group_run")
    band = w("band_quantile") if data.members > QUANTILE_BAND_ABOVE else w("band_minmax")
    goals = list(data.goals.values())
    goal_names = [w.goal(g) for g in goals]
    figures = []

    fig, units = fig_trajectories(data, words)
    units_text = "; ".join(f"({i}) {u}" for i, u in enumerate(units, start=1))
    caption = (_e(w("fig_trajectories", member_word=member_word, band=band)) + " "
               + _e(w("axes", x=w("axis_month"), y=units_text)) + _panels(w, goal_names))
    figures.append(_figure(_save(fig, fig_dir / "fig-trajectories.png"), "fig-trajectories", caption,
                           w("fig_trajectories", member_word=member_word, band=band)))
    if len(data.groups) > 1:
        fig, units = fig_comparison(data, words)
        names = [w.indicator(i) for i in _goal_indicators(data.goals)]
        text = w("fig_comparison", group_word=group_word, reference=data.reference, horizon=data.horizon,
                 confidence=CONFIDENCE)
        caption = (_e(text) + " " + _e(w("axes", x=w("axis_difference", unit=", ".join(dict.fromkeys(units))),
                                         y=w("col_group"))) + _panels(w, names, units))
        figures.append(_figure(_save(fig, fig_dir / "fig-comparison.png"), "fig-comparison", caption, text))
    if any(r["n"] for r in data.goal_rows):
        text = w("fig_goals", member_word=member_word, confidence=CONFIDENCE)
        caption = _e(text) + " " + _e(w("axes", x=w("axis_probability"), y=w("col_goal"))) + _panels(w, goal_names)
        figures.append(_figure(_save(fig_goals(data, words), fig_dir / "fig-goals.png"), "fig-goals", caption, text))
    sens_html = ""
    if data.sensitivity is not None and not data.sensitivity.empty:
        text = w("fig_sensitivity", confidence=CONFIDENCE)
        outcomes = [w.indicator(o) for o in dict.fromkeys(data.sensitivity["outcome"])]
        caption = _e(text) + " " + _e(w("axes", x=w("axis_index"), y=w("col_factor"))) + _panels(w, outcomes)
        figures.append(_figure(_save(fig_sensitivity(data, words), fig_dir / "fig-sensitivity.png"),
                               "fig-sensitivity", caption, text))
        rows = [[r["policy"], w.indicator(r["outcome"]), r["factor"],
                 f"{r['first_order']:.2f} ({r['first_order_low']:.2f} {w('to')} {r['first_order_high']:.2f})",
                 f"{r['total_order']:.2f} ({r['total_order_low']:.2f} {w('to')} {r['total_order_high']:.2f})"]
                for _, r in data.sensitivity.iterrows()]
        sens_html = (f"<h2>{_e(w('sensitivity_table'))}</h2>"
                     + _table([w("col_group"), w("col_outcome"), w("col_factor"), w("col_first"), w("col_total")], rows))

    if data.kind == "run":
        title = w("title_run", name=data.reference)
    elif sweep:
        title = w("title_sweep", name=directory.name)
    else:
        title = w("title_comparison", names=", ".join(data.groups[1:]), reference=data.reference)
    comparison_html = ""
    if data.diffs:
        rows = [[d["group"], w.indicator(d["indicator"]),
                 w.range(d["indicator"], d["difference"], d["ci_low"], d["ci_high"], fmt=w.change), d["pairs"]]
                for d in data.diffs]
        comparison_html = (f"<h2>{_e(w('comparison_table', horizon=data.horizon))}</h2>"
                           + _table([w("col_group"), w("col_indicator"), w("col_difference"), "n"], rows))
    section_names = {"settings": w("settings"), "levers": w("levers"), "uncertainties": w("uncertainties"),
                     "constants": w("constants"), "shocks": w("shocks"), "spec": w("spec")}
    inputs = "".join(f"<h3>{_e(section_names.get(name, name))}</h3>"
                     + _table([w("key"), w("value")], [[_e(section_names.get(k, k)),
                                                        _e(w("none")) if v == "none" else f"<code>{_e(v)}</code>"]
                                                       for k, v in rows], raw=True)
                     for name, rows in data.inputs)
    provenance = "".join(f"<h3>{_e(name)}</h3>"
                         + _table([w("key"), w("value")], [[f"<code>{_e(k)}</code>", f"<code>{_e(v)}</code>"]
                                                           for k, v in rows], raw=True)
                         for name, rows in data.provenance)
    direction = ' dir="rtl"' if lang == "fa" else ""
    document = f"""<!DOCTYPE html>
<html lang="{lang}"{direction}>
<head><meta charset="utf-8"><title>{_e(title)}</title><style>{STYLE}</style></head>
<body>
<h1>{_e(title)}</h1>
<h2>{_e(w('summary'))}</h2>
<ul class="summary">{''.join(f'<li>{_e(item)}</li>' for item in _summary(data, w))}</ul>
<h2>{_e(w('goal_table'))}</h2>
{_goal_table(data, w)}
<h2>{_e(w('figures'))}</h2>
{''.join(figures)}
{comparison_html}
{sens_html}
<h2>{_e(w('inputs'))}</h2>
<p>{_e(w('inputs_note'))}</p>
{inputs}
<h2>{_e(w('provenance'))}</h2>
<p>{_e(w('provenance_note'))}</p>
{provenance}
</body>
</html>
"""
    if digits == "persian":
        document = persian_digits(document)
    with atomic_path(out) as tmp:
        tmp.write_text(document, encoding="utf-8")
    return out


def report_command(directory: Path | str, lang: str = "en", digits: str = "latin", out: Path | str | None = None) -> int:
    path = build_report(directory, lang, digits, out)
    figures = sorted(path.parent.glob("fig-*.png"))
    print(f"written: {path} ({path.stat().st_size / 1024:.0f} KB) and {len(figures)} figures beside it")
    return 0
