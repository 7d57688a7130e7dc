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
import math
from pathlib import Path

from experiments.errors import FlagError
from experiments.files import atomic_path
from experiments.formatting import DIGITS, persian_digits
from experiments.report.data import CONFIDENCE, QUANTILE_BAND_ABOVE, ReportData, goal_indicators, load
from experiments.report.figures import PIXELS, fig_comparison, fig_goals, fig_sensitivity, fig_trajectories, save_figure
from experiments.report.words import Words
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


def _summary(data: ReportData, w: Words) -> list[str]:
    sweep = data.kind == "sweep"
    member_word, group_word = w("member_sweep" if sweep else "member_run"), w("group_sweep" if sweep else "group_run")
    items = [
        w(
            "caveat",
            members=data.members,
            member_word=member_word,
            group_word=group_word,
            scale=data.scale,
            months=data.horizon,
        )
    ]
    for goal in data.goals.values():
        rows = {r["group"]: r for r in data.goal_rows if r["goal"] == goal.name}
        ref = rows[data.reference]
        if not ref["n"]:
            items.append(w("goal_unchecked", goal=w.goal(goal), horizon=data.horizon, month=ref["month"]))
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
                member_word=member_word,
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
                        confidence=CONFIDENCE,
                        low=w.percent(r["p_low"]),
                        high=w.percent(r["p_high"]),
                    )
                )
                continue
            parts.append(
                w(
                    "goal_change",
                    group=group,
                    met=r["met"],
                    n=r["n"],
                    value=w.value(goal.indicator, r["mean"]),
                    change=w.change(goal.indicator, r.get("change", math.nan)),
                    reference=data.reference,
                    confidence=CONFIDENCE,
                    low=w.change(goal.indicator, r.get("change_low", math.nan)),
                    high=w.change(goal.indicator, r.get("change_high", math.nan)),
                )
            )
            low, high = r.get("change_low", math.nan), r.get("change_high", math.nan)
            if math.isfinite(low) and math.isfinite(high):
                parts.append(w("not_distinguishable") if low <= 0 <= high else w("distinguishable"))
        items.append(" ".join(parts))
    if data.members < 5:
        items.append(w("few_members", n=data.members, member_word=member_word))
    return items


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
                last = f"{w.percent(r['probability'])} ({w.percent(r['p_low'])} {w('to')} {w.percent(r['p_high'])})"
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
    member_word, group_word = w("member_sweep" if sweep else "member_run"), w("group_sweep" if sweep else "group_run")
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
    elif sweep:
        title = w("title_sweep", name=directory.name)
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
    section_names = {
        "settings": w("settings"),
        "levers": w("levers"),
        "uncertainties": w("uncertainties"),
        "constants": w("constants"),
        "shocks": w("shocks"),
        "spec": w("spec"),
    }
    inputs = "".join(
        f"<h3>{_e(section_names.get(name, name))}</h3>"
        + _table(
            [w("key"), w("value")],
            [[_e(section_names.get(k, k)), _e(w("none")) if v == "none" else f"<code>{_e(v)}</code>"] for k, v in rows],
            raw=True,
        )
        for name, rows in data.inputs
    )
    provenance = "".join(
        f"<h3>{_e(name)}</h3>"
        + _table(
            [w("key"), w("value")], [[f"<code>{_e(k)}</code>", f"<code>{_e(v)}</code>"] for k, v in rows], raw=True
        )
        for name, rows in data.provenance
    )
    direction = ' dir="rtl"' if lang == "fa" else ""
    document = f"""<!DOCTYPE html>
<html lang="{lang}"{direction}>
<head><meta charset="utf-8"><title>{_e(title)}</title><style>{STYLE}</style></head>
<body>
<h1>{_e(title)}</h1>
<h2>{_e(w("summary"))}</h2>
{_warnings(data, w)}
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
<h2>{_e(w("provenance"))}</h2>
<p>{_e(w("provenance_note"))}</p>
{provenance}
</body>
</html>
"""
    if digits == "persian":
        document = persian_digits(document)
    with atomic_path(out) as tmp:
        tmp.write_text(document, encoding="utf-8")
    return out
