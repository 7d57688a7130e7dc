"""`smesim report DIR`: one self-contained HTML report of a run, a comparison or a sweep.

DIR is
- a run directory of `smesim run` (indicators.parquet + manifest.json): one scenario, its
  replications;
- a comparison directory: several run directories (like the demo's results/demo/); the one
  named "baseline", else the first by name, is the reference, and the others are compared with
  it replication by replication (the same seed: paired differences, t intervals);
- a sweep directory (runs/, series/, manifest.json): policies compared with the baseline by
  `experiments.analysis.compare`, and Sobol indices (`experiments.analysis.sensitivity`) when the design
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
import json
import math
from pathlib import Path

from experiments.errors import FlagError
from experiments.files import atomic_path
from experiments.formatting import DIGITS, persian_digits
from experiments.report.data import CONFIDENCE, QUANTILE_BAND_ABOVE, ReportData, goal_indicators, load
from experiments.report.figures import PIXELS, fig_comparison, fig_goals, fig_sensitivity, fig_trajectories, save_figure
from experiments.report.words import UNIT_WORDS, Words
from experiments.runs.replay import value_text

__all__ = ["REPORT_DIR", "REPORT_FILE", "build_report", "default_report_path"]

REPORT_DIR, REPORT_FILE = "report", "report.html"
KEYS_SHOWN = 5  # differing keys named in a warning


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
.warnings li { margin-bottom: 0.4em; color: #a00000; }
.headline { border-inline-start: 4px solid #2a5d9f; padding: 0.2em 1em; background: #f4f7fb; }
.headline p { font-size: 1.15em; margin: 0.4em 0; }
details.provenance { margin-top: 2em; }
details.provenance summary { cursor: pointer; font-weight: bold; }
.print-only { display: none; }
@media print {
  body { max-width: none; margin: 0; padding: 0; color: #000; background: #fff; font-size: 11pt; }
  details.provenance, summary { display: none; }
  .print-only { display: block; font-size: 0.9em; }
  .headline { background: none; border: 2px solid #000; }
  .warnings li { color: #000; font-weight: bold; }
  th { background: none; border-bottom: 2px solid #000; }
  th, td { border-color: #000; }
  figcaption { color: #000; }
  h1, h2, h3 { page-break-after: avoid; break-after: avoid; }
  figure, tr, .headline { page-break-inside: avoid; break-inside: avoid; }
  figure img { border: none; max-height: 45vh; width: auto; }
  table { page-break-inside: auto; }
}
"""


def _e(text) -> str:
    return html.escape(str(text))


def _table(header: list[str], rows: list[list[str]], raw: bool = False) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c if raw else _e(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _code(text) -> str:
    return f"<code>{_e(text)}</code>"


def _warning(w: Words, kind: str, fields: dict) -> str:
    """One warning of data.warnings as HTML: file names, keys and values as code (no Persian digits)."""
    differences = fields.get("differences", [])
    keys = "; ".join(
        _e(w.t["recorded_vs"]).format(key=_code(key), recorded=_code(value_text(a)), derived=_code(value_text(b)))
        for key, a, b in differences[:KEYS_SHOWN]
    )
    if len(differences) > KEYS_SHOWN:
        keys += " " + _e(w("more_keys", n=len(differences)))
    return _e(w.t[kind]).format(file=_code(fields["file"]), n=len(differences), keys=keys)


def _warnings(data: ReportData, w: Words) -> str:
    if not data.warnings:
        return ""
    items = "".join(f"<li>{_warning(w, kind, fields)}</li>" for kind, fields in data.warnings)
    return f'<ul class="warnings">{items}</ul>'


def _interval(w: Words, low: float, high: float, fmt) -> str:
    """ "95% interval a to b", or in words that there is none (never "n/a to n/a")."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return w("no_interval")
    return w("interval", confidence=CONFIDENCE, low=fmt(low), high=fmt(high))


def _summary(data: ReportData, w: Words) -> list[str]:
    sweep = data.kind == "sweep"
    group_word = w("group_sweep" if sweep else "group_run")
    noun = "run" if sweep else "replication"
    items = [
        w(
            "caveat",
            members=w.count(data.members, noun),
            member_word=w.members(2, sweep),
            group_word=group_word,
            scale=w.percent(data.scale),
            months=w.count(data.horizon, "month"),
        )
    ]
    unchecked: dict[int, tuple[int, list[str]]] = {}  # goals not checkable, by month: (line, goals)
    for goal in data.goals.values():
        rows = {r["group"]: r for r in data.goal_rows if r["goal"] == goal.name}
        ref = rows[data.reference]
        if not ref["n"]:
            if ref["month"] not in unchecked:
                unchecked[ref["month"]] = (len(items), [])
                items.append("")  # the line, once its goals are known
            unchecked[ref["month"]][1].append(w.goal(goal))
            continue
        parts = [
            w(
                "goal_state",
                goal=w.goal(goal),
                target=w.target(goal),
                month=ref["month"],
                group=data.reference,
                met=ref["met"],
                n=ref["n"],
                member_word=w.members(ref["n"], sweep),
                value=w.value(goal.indicator, ref["mean"]),
            )
        ]
        for group in data.groups[1:]:
            r = rows[group]
            if sweep:
                parts.append(
                    w(
                        "goal_change_sweep",
                        group=group,
                        met=r["met"],
                        n=r["n"],
                        value=w.value(goal.indicator, r["mean"]),
                        probability=w.percent(r["probability"]),
                        interval=_interval(w, r["p_low"], r["p_high"], w.percent),
                    )
                )
                continue
            low, high = r.get("change_low", math.nan), r.get("change_high", math.nan)
            parts.append(
                w(
                    "goal_change",
                    group=group,
                    met=r["met"],
                    n=r["n"],
                    value=w.value(goal.indicator, r["mean"]),
                    change=w.change(goal.indicator, r.get("change", math.nan)),
                    reference=data.reference,
                    interval=_interval(w, low, high, lambda v, i=goal.indicator: w.change(i, v)),
                )
            )
            if math.isfinite(low) and math.isfinite(high):
                parts.append(w("not_distinguishable") if low <= 0 <= high else w("distinguishable"))
        items.append(" ".join(parts))
    if data.members < 5:
        items.append(w("few_members", n=w.count(data.members, noun)))
    for month, (line, names) in unchecked.items():
        items[line] = w("goal_unchecked", goal=w("sep").join(names), horizon=data.horizon, month=month)
    return items


def _goals_met(data: ReportData, group: str) -> tuple[int, int, int]:
    """(goals met in at least half of the group's members, goals that can be checked, goals)."""
    rows = [r for r in data.goal_rows if r["group"] == group]
    checked = [r for r in rows if r["n"]]
    return sum(r["probability"] >= 0.5 for r in checked), len(checked), len(rows)


def _cost(data: ReportData, group: str) -> dict:
    return next((c for c in data.costs if c["group"] == group), {})


def _per(w: Words, extra: float, gain: float, what: str) -> str:
    """Extra cost per unit of gain, or in words why there is no such ratio."""
    if not (math.isfinite(gain) and gain > 0):
        return w("not_defined_gain", what=w(what))
    if not (math.isfinite(extra) and extra > 0):
        return w("no_extra_cost")
    return w.money(extra / gain)


def _headline(data: ReportData, w: Words) -> list[str]:
    """One or two sentences: what the run or each compared scenario (a sweep: its best policy)
    reaches on the first goal's indicator, at what cost, and how many goals it meets."""
    sweep = data.kind == "sweep"
    goals = list(data.goals.values())
    if not goals:
        return []
    indicator = goals[0].indicator
    groups = data.groups[1:] or data.groups
    lead = []
    if sweep and len(groups) > 1:
        best = max(groups, key=lambda g: (_goals_met(data, g)[0], _diff(data, g, indicator)["difference"]))
        lead = [w("hl_best", n=len(groups), reference=data.reference, group=best)]
        groups = [best]
    sentences = []
    last = data.series[data.series["month"] == data.horizon]
    for group in groups:
        value = float(last[last["group"] == group][indicator].mean())
        text = w(
            "hl_value",
            group=group,
            indicator=w.indicator(indicator),
            value=w.value(indicator, value),
            month=data.horizon,
        )
        diff = _diff(data, group, indicator) if group != data.reference else {}
        if diff:
            text += w("hl_change", change=w.change(indicator, diff["difference"]), reference=data.reference)
        cost = _cost(data, group)
        if math.isfinite(cost.get("spend", math.nan)):
            text += w("hl_cost", cost=w.money(cost["spend"]))
        met, checked, n = _goals_met(data, group)
        members = w.members(2, sweep)
        if not checked:
            month = min(g.month_for(data.horizon) for g in goals)
            text += w("hl_unchecked", month=month, horizon=data.horizon)
        elif checked < n:
            text += w("hl_some_unchecked", met=met, checked=checked, n=n, horizon=data.horizon)
        else:
            text += w("hl_goals", met=met, n=n, member_word=members)
        sentences.append(text)
        low, high = diff.get("ci_low", math.nan), diff.get("ci_high", math.nan)
        if math.isfinite(low) and math.isfinite(high) and low <= 0 <= high:
            sentences.append(w("hl_noise", indicator=w.indicator(indicator)))
        gain, extra = cost.get("jobs_gain", math.nan), cost.get("extra_spend", math.nan)
        if math.isfinite(gain) and gain > 0 and math.isfinite(extra) and extra > 0:
            sentences.append(
                w("hl_per_job", cost=w.money(extra / gain), jobs=w.value("jobs", gain), extra=w.money(extra))
            )
    return lead + sentences


def _diff(data: ReportData, group: str, indicator: str) -> dict:
    found = next((d for d in data.diffs if d["group"] == group and d["indicator"] == indicator), None)
    return found or {"difference": math.nan, "ci_low": math.nan, "ci_high": math.nan}


def _cost_section(data: ReportData, w: Words) -> str:
    if not data.costs:
        return ""
    compared = len(data.groups) > 1
    header = [w("col_group"), w("col_cost", horizon=data.horizon)]
    if compared:
        header += [w("col_extra_cost"), w("col_per_job"), w("col_per_export")]
    rows = []
    for c in data.costs:
        row = [c["group"], w.money(c["spend"])]
        if compared:
            if c["group"] == data.reference:
                row += [w("reference"), "", ""]
            else:
                extra = c["extra_spend"]
                row += [
                    w.money(extra),
                    _per(w, extra, c["jobs_gain"], "what_jobs"),
                    _per(w, extra, c["exports_gain"], "what_exports"),
                ]
        rows.append(row)
    note = w("cost_note", horizon=data.horizon, reference=data.reference) if compared else ""
    return f"<h2>{_e(w('cost'))}</h2>" + (f"<p>{_e(note)}</p>" if note else "") + _table(header, rows)


def _inputs_section(data: ReportData, w: Words) -> str:
    """The inputs in words: run settings, lever settings, uncertainties, constants, shocks."""
    sweep = data.kind == "sweep"
    blocks = []
    for name, inputs in data.inputs:
        rows: list[list[str]] = []
        settings = inputs.get("settings")
        if settings:
            replications = settings.get("replications") or 0
            text = w(
                "settings_text",
                seed=settings.get("seed"),
                replications=w.count(replications, "replication"),
                months=w.count(settings.get("months") or 0, "month"),
                scale=w.percent(float(settings.get("scale") or 0)),
            )
            if inputs.get("design"):
                kind = inputs["design"].get("kind", "")
                text += w("sep") + w("design_text", kind=UNIT_WORDS[w.lang].get(kind, kind))
            if inputs.get("command_line_overrides"):
                names = [w.t.get(f"cl_{k}", k) for k in inputs["command_line_overrides"]]
                text += " (" + w("command_line") + ": " + w("comma").join(names) + ")"
            rows.append([w("settings"), _e(text)])
        if "levers" in inputs:
            levers = inputs["levers"]
            items = [_e(w.lever(lever, key, value)) for lever, key, value in levers]
            rows.append([w("levers"), "<br>".join(items) if items else _e(w("today"))])
        for factor, values in (inputs.get("factors") or {}).items():
            short = factor.split(".")[-1]
            if "values" in values:
                shown = f" {w('or')} ".join(w.parameter(short, v).split(": ", 1)[1] for v in values["values"])
            else:
                low, high = (w.parameter(short, values.get(k)).split(": ", 1)[1] for k in ("low", "high"))
                shown = f"{low} {w('to')} {high}"
            label = w.parameter(short, 0).split(": ", 1)[0]
            rows.append([w("col_factor"), _e(f"{label}: {shown}")])
        for section in ("uncertainties", "constants"):
            if section in inputs:
                values = inputs[section]
                params = [_e(w.parameter(k, v)) for k, v in values.items()]
                rows.append([w(section), "<br>".join(params) if params else _e(w("none"))])
        if "shocks" in inputs:
            shocks = inputs["shocks"]
            rows.append([w("shocks"), "<br>".join(_code(_compact(s)) for s in shocks) if shocks else _e(w("none"))])
        title = w("spec") if sweep and name == "spec" else (w("policy_levers", name=name) if sweep else name)
        blocks.append(f"<h3>{_e(title)}</h3>" + _table([w("key"), w("value")], [[_e(k), v] for k, v in rows], True))
    return "".join(blocks)


def _compact(value) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def _goal_table(data: ReportData, w: Words) -> str:
    sweep = data.kind == "sweep"
    header = [
        w("col_goal"),
        w("col_target"),
        w("col_month"),
        w("col_group"),
        w("col_value"),
        w("col_met"),
        w("col_probability") if sweep else w("col_change"),
    ]
    rows = []
    for goal in data.goals.values():
        for r in (r for r in data.goal_rows if r["goal"] == goal.name):
            if not r["n"]:
                rows.append([w.goal(goal), w.target(goal), r["month"], r["group"], w("not_checked"), "", ""])
                continue
            if sweep:
                last = w.percent(r["probability"])
                if math.isfinite(r["p_low"]) and math.isfinite(r["p_high"]):
                    last += f" ({w.percent(r['p_low'])} {w('to')} {w.percent(r['p_high'])})"
            elif r["group"] == data.reference:
                last = w("reference")
            else:
                last = w.range(
                    goal.indicator,
                    r.get("change", math.nan),
                    r.get("change_low", math.nan),
                    r.get("change_high", math.nan),
                    fmt=w.change,
                )
            rows.append(
                [
                    w.goal(goal),
                    w.target(goal),
                    r["month"],
                    r["group"],
                    w.range(goal.indicator, r["mean"], r["min"], r["max"]),
                    w("met_of", met=r["met"], n=r["n"]),
                    last,
                ]
            )
    return _table(header, rows)


def _figure(png: bytes, name: str, caption: str, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<figure id="{_e(name)}"><img src="data:image/png;base64,{data}" alt="{_e(alt)}" '
        f'width="{PIXELS[0]}" height="{PIXELS[1]}"><figcaption>{caption}</figcaption></figure>'
    )


def _panels(w: Words, names: list[str], units: list[str] | None = None) -> str:
    items = "; ".join(
        f"({i}) {_e(n)}" + (f" [{_e(u)}]" if units else "")
        for i, (n, u) in enumerate(zip(names, units or names, strict=True), start=1)
    )
    return f"<br>{_e(w('panels'))}: {items}"


def default_report_path(directory: Path, lang: str = "en") -> Path:
    """DIR/report/report.html in English, DIR/report/<lang>/report.html in another language: a
    report in one language and its figures do not overwrite those in another."""
    folder = Path(directory) / REPORT_DIR
    return (folder if lang == "en" else folder / lang) / REPORT_FILE


def build_report(directory: Path | str, lang: str = "en", digits: str = "latin", out: Path | str | None = None) -> Path:
    """Write the report of `directory` (see the module doc) and its figures; return the HTML path."""
    w = Words(lang)
    if digits not in DIGITS:
        raise FlagError("--digits", f"must be one of {', '.join(DIGITS)}, got {digits!r}")
    directory = Path(directory)
    data = load(directory)
    out = Path(out) if out is not None else default_report_path(directory, lang)
    if out.exists() and out.is_dir():
        raise FlagError("--out", f"must be a file name, got the directory {out}")
    fig_dir = out.parent
    words = w if lang == "en" else None  # Persian: no words inside the images
    sweep = data.kind == "sweep"
    member_word, group_word = w.members(2, sweep), w("group_sweep" if sweep else "group_run")
    band = w("band_quantile") if data.members > QUANTILE_BAND_ABOVE else w("band_minmax")
    goals = list(data.goals.values())
    goal_names = [w.goal(g) for g in goals]
    figures = []

    fig, units = fig_trajectories(data, words)
    units_text = "; ".join(f"({i}) {u}" for i, u in enumerate(units, start=1))
    caption = (
        _e(w("fig_trajectories", member_word=member_word, band=band))
        + " "
        + _e(w("axes", x=w("axis_month"), y=units_text))
        + _panels(w, goal_names)
    )
    figures.append(
        _figure(
            save_figure(fig, fig_dir / "fig-trajectories.png"),
            "fig-trajectories",
            caption,
            w("fig_trajectories", member_word=member_word, band=band),
        )
    )
    if len(data.groups) > 1:
        fig, units = fig_comparison(data, words)
        names = [w.indicator(i) for i in goal_indicators(data.goals)]
        text = w(
            "fig_comparison",
            group_word=group_word,
            reference=data.reference,
            horizon=data.horizon,
            confidence=CONFIDENCE,
        )
        caption = (
            _e(text)
            + " "
            + _e(w("axes", x=w("axis_difference", unit=", ".join(dict.fromkeys(units))), y=w("col_group")))
            + _panels(w, names, units)
        )
        figures.append(_figure(save_figure(fig, fig_dir / "fig-comparison.png"), "fig-comparison", caption, text))
    if any(r["n"] for r in data.goal_rows):
        text = w("fig_goals", member_word=member_word, confidence=CONFIDENCE)
        caption = _e(text) + " " + _e(w("axes", x=w("axis_probability"), y=w("col_goal"))) + _panels(w, goal_names)
        figures.append(
            _figure(save_figure(fig_goals(data, words), fig_dir / "fig-goals.png"), "fig-goals", caption, text)
        )
    sens_html = ""
    if data.sensitivity is not None and not data.sensitivity.empty:
        text = w("fig_sensitivity", confidence=CONFIDENCE)
        outcomes = [w.indicator(o) for o in dict.fromkeys(data.sensitivity["outcome"])]
        caption = _e(text) + " " + _e(w("axes", x=w("axis_index"), y=w("col_factor"))) + _panels(w, outcomes)
        figures.append(
            _figure(
                save_figure(fig_sensitivity(data, words), fig_dir / "fig-sensitivity.png"),
                "fig-sensitivity",
                caption,
                text,
            )
        )
        rows = [
            [
                r["policy"],
                w.indicator(r["outcome"]),
                r["factor"],
                f"{r['first_order']:.2f} ({r['first_order_low']:.2f} {w('to')} {r['first_order_high']:.2f})",
                f"{r['total_order']:.2f} ({r['total_order_low']:.2f} {w('to')} {r['total_order_high']:.2f})",
            ]
            for _, r in data.sensitivity.iterrows()
        ]
        sens_html = f"<h2>{_e(w('sensitivity_table'))}</h2>" + _table(
            [w("col_group"), w("col_outcome"), w("col_factor"), w("col_first"), w("col_total")], rows
        )

    if data.kind == "run":
        title = w("title_run", name=data.reference)
    elif sweep:  # "sweep-quick" is not called "sweep sweep-quick"
        title = w("title_sweep_named" if "sweep" in directory.name.lower() else "title_sweep", name=directory.name)
    else:
        title = w("title_comparison", names=", ".join(data.groups[1:]), reference=data.reference)
    comparison_html = ""
    if data.diffs:
        rows = [
            [
                d["group"],
                w.indicator(d["indicator"]),
                w.range(d["indicator"], d["difference"], d["ci_low"], d["ci_high"], fmt=w.change),
                d["pairs"],
            ]
            for d in data.diffs
        ]
        comparison_html = f"<h2>{_e(w('comparison_table', horizon=data.horizon))}</h2>" + _table(
            [w("col_group"), w("col_indicator"), w("col_difference"), "n"], rows
        )
    inputs = _inputs_section(data, w)
    provenance = "".join(
        f"<h3>{_e(name)}</h3>"
        + _table(
            [w("key"), w("value")], [[f"<code>{_e(k)}</code>", f"<code>{_e(v)}</code>"] for k, v in rows], raw=True
        )
        for name, rows in data.provenance
    )
    headline = "".join(f"<p>{_e(sentence)}</p>" for sentence in _headline(data, w))
    direction = ' dir="rtl"' if lang == "fa" else ""
    document = f"""<!DOCTYPE html>
<html lang="{lang}"{direction}>
<head><meta charset="utf-8"><title>{_e(title)}</title><style>{STYLE}</style></head>
<body>
<h1>{_e(title)}</h1>
{_warnings(data, w)}
<section class="headline"><h2>{_e(w("headline"))}</h2>{headline}</section>
{_cost_section(data, w)}
<h2>{_e(w("summary"))}</h2>
<ul class="summary">{"".join(f"<li>{_e(item)}</li>" for item in _summary(data, w))}</ul>
<h2>{_e(w("goal_table"))}</h2>
{_goal_table(data, w)}
<h2>{_e(w("figures"))}</h2>
{"".join(figures)}
{comparison_html}
{sens_html}
<h2>{_e(w("inputs"))}</h2>
<p>{_e(w("inputs_note"))}</p>
{inputs}
<details class="provenance"><summary>{_e(w("provenance_summary"))}</summary>
<p>{_e(w("provenance_note"))}</p>
{provenance}
</details>
<p class="print-only">{_e(w("print_provenance"))}</p>
</body>
</html>
"""
    if digits == "persian":
        document = persian_digits(document)
    with atomic_path(out) as tmp:
        tmp.write_text(document, encoding="utf-8")
    return out
