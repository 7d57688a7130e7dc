"""smesim report: one self-contained HTML file with every figure embedded, in English and Persian,
for a run, a comparison directory and a sweep directory."""

import html
import json
import re
import shutil

import matplotlib.image
import pandas as pd
import pytest

from experiments import cli
from experiments.report.figures import PIXELS
from experiments.report.words import Words

SETTINGS = ["--scale", "0.02", "--months", "4", "--replications", "2"]
IMG = re.compile(r'<img src="data:image/png;base64,[A-Za-z0-9+/=]+"')


@pytest.fixture(scope="module")
def comparison(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    for name in ("baseline", "ministry_plan"):
        assert cli.main(["run", name, *SETTINGS, "--out", str(root / name)]) == 0
    return root


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep") / "quick"
    assert cli.main(["sweep", "quick", "--workers", "0", "--out", str(out)]) == 0
    return out


def report(directory, *flags, out=None) -> str:
    args = ["report", str(directory), *flags] + (["--out", str(out)] if out else [])
    assert cli.main(args) == 0
    path = out or directory / "report" / "report.html"
    return path.read_text(encoding="utf-8")


def figures(directory):
    return sorted(directory.glob("fig-*.png"))


def assert_self_contained(text: str) -> None:
    assert not re.search(r'(src|href)\s*=\s*["\']?(https?:)?//', text)
    assert "<link" not in text and "<script" not in text


def assert_png_sizes(paths) -> None:
    assert paths
    for path in paths:
        image = matplotlib.image.imread(path)
        assert image.shape[:2] == (PIXELS[1], PIXELS[0])
        assert image.std() > 0  # something drawn


@pytest.mark.slow
def test_comparison_report_embeds_every_figure_and_the_goal_table(comparison, capsys):
    text = report(comparison)
    pngs = figures(comparison / "report")
    assert {p.name for p in pngs} == {"fig-trajectories.png", "fig-comparison.png"}
    assert len(IMG.findall(text)) == len(pngs)
    assert_png_sizes(pngs)
    assert_self_contained(text)
    assert "<h2>Goals</h2>" in text and "<table>" in text
    assert "compared with baseline" in text and "ministry_plan" in text
    assert "cannot be checked, the runs end at month 4, before month 48" in text
    assert 'lang="en"' in text and "rtl" not in text
    assert "<code>git</code>" in text and "versions" in text and "scenario sha256" in text
    assert "written:" in capsys.readouterr().out


def test_run_report_with_goals_met_and_missed(comparison, tmp_path):
    scenario = tmp_path / "short.toml"
    scenario.write_text(
        'description = "short"\nseed = 2\nmonths = 4\nscale = 0.02\nreplications = 2\n'
        "[goals.employment_share]\nmonth = 3\n[goals.exports]\nmonth = 4\n[levers.clinics]\n"
        "budget_usd = 20e6\n"
    )
    run = tmp_path / "run"
    assert cli.main(["run", str(scenario), "--out", str(run)]) == 0
    text = report(run)
    pngs = figures(run / "report")
    assert {p.name for p in pngs} == {"fig-trajectories.png", "fig-goals.png"}
    assert len(IMG.findall(text)) == 2
    assert_png_sizes(pngs)
    assert "of 2 replications" in text and "Industry clinics: USD 20.0 m a year" in text
    assert "Export USD 17 bn a year" in text


def test_persian_report_is_right_to_left_with_persian_digits(comparison, tmp_path):
    out = tmp_path / "fa" / "report.html"
    text = report(comparison, "--lang", "fa", "--digits", "persian", out=out)
    assert '<html lang="fa" dir="rtl">' in text
    assert "هدف‌ها" in text and "خلاصه" in text
    body = re.sub(r"<style.*?</style>|<code.*?</code>|<[^>]*>", "", text, flags=re.S)
    assert re.search("[۰-۹]", body) and not re.search("[0-9]", body.replace("S1", ""))
    pngs = figures(out.parent)
    assert len(pngs) == len(IMG.findall(text)) == 2
    assert_png_sizes(pngs)
    assert_self_contained(text)


def test_a_persian_report_leaves_the_english_one_alone(comparison):
    english = report(comparison)  # DIR/report/report.html
    assert cli.main(["report", str(comparison), "--lang", "fa"]) == 0  # no --out
    persian = (comparison / "report" / "fa" / "report.html").read_text(encoding="utf-8")
    assert '<html lang="fa"' in persian
    assert (comparison / "report" / "report.html").read_text(encoding="utf-8") == english
    assert len(figures(comparison / "report" / "fa")) == 2  # its figures beside it, not over the English ones


def test_persian_report_with_latin_digits(comparison, tmp_path):
    text = report(comparison, "--lang", "fa", out=tmp_path / "r.html")
    assert 'dir="rtl"' in text and "ماه 4" in text


def test_sweep_report_uses_the_analysis(sweep):
    text = report(sweep)
    pngs = figures(sweep / "report")
    assert {p.name for p in pngs} == {"fig-trajectories.png", "fig-comparison.png"}
    assert len(IMG.findall(text)) == 2
    assert_png_sizes(pngs)
    assert_self_contained(text)
    assert "sweep quick" in text and "clinics" in text and "Comparison at month 3" in text


def edited_copy(source, target, edit, file="manifest.json"):
    """A copy of the directory `source` at `target` whose JSON `file` `edit(data)` changed."""
    shutil.copytree(source, target)
    data = json.loads((target / file).read_text())
    edit(data)
    (target / file).write_text(json.dumps(data))
    return target


def inputs_section(text: str) -> str:
    return text[text.index("<h2>Inputs</h2>") : text.index('<details class="provenance">')]


def test_run_report_takes_inputs_and_goals_from_the_stored_text_and_warns(comparison, tmp_path):
    def edit(manifest):
        manifest["scenario"]["validated"]["levers"]["clinics"]["budget_usd"] = 9e9
        manifest["scenario"]["validated"]["goals"]["exports"]["at_least"] = 1.0

    text = report(edited_copy(comparison / "ministry_plan", tmp_path / "plan", edit))
    inputs = inputs_section(text)
    assert "Industry clinics: USD 20.0 m a year" in inputs and "9.0 bn" not in inputs
    assert "Export USD 17 bn a year" in text and "≥ 1 " not in text
    warning = text[text.index('<ul class="warnings">') : text.index('<ul class="summary">')]
    assert "Warning: the inputs recorded in <code>" + str(tmp_path / "plan" / "manifest.json") in warning
    assert "at 2 key(s)" in warning
    assert "<code>scenario.validated.levers.clinics.budget_usd</code>: <code>9e+09</code> recorded" in warning
    assert "<code>scenario.validated.goals.exports.at_least</code>: <code>1</code> recorded" in warning


def test_run_report_warns_when_the_indicators_were_changed(comparison, tmp_path):
    run = tmp_path / "baseline"
    shutil.copytree(comparison / "baseline", run)
    frame = pd.read_parquet(run / "indicators.parquet")
    frame.loc[frame["month"] == 4, "exports_usd"] *= 2
    frame.to_parquet(run / "indicators.parquet", index=False)
    text = report(run)
    assert "Warning: <code>" + str(run / "indicators.parquet") + "</code> does not have the sha256" in text
    assert '<ul class="warnings">' not in report(comparison / "baseline", out=tmp_path / "clean.html")


def test_sweep_report_takes_the_spec_from_the_stored_spec_text_and_warns(sweep, tmp_path):
    def edit(manifest):
        manifest["spec"]["policies"]["clinics"]["clinics"]["budget_usd"] = 9e9
        manifest["spec"]["scale"] = 1.0

    text = report(edited_copy(sweep, tmp_path / "quick", edit))
    inputs = inputs_section(text)
    assert "<h3>policy clinics: levers</h3>" in inputs and "Industry clinics: USD 20.0 m a year" in inputs
    assert "9.0 bn" not in inputs and "at 2% of the real population" in text
    assert "<code>spec.policies.clinics.clinics.budget_usd</code>: <code>9e+09</code> recorded" in text
    assert "<code>spec.scale</code>: <code>1</code> recorded, <code>0.02</code> from the text" in text


SOBOL_SPEC = """
description = "tiny Sobol design for the report test"
base = "baseline"
seed = 3
months = 3
scale = 0.01
replications = 1
[design]
kind = "sobol"
samples = 8
[policies.baseline]
[factors."uncertainties.inflation_rate"]
low = 0.25
high = 0.55
[factors."uncertainties.completion_rate"]
low = 0.002
high = 0.015
"""


@pytest.mark.slow
def test_sobol_sweep_report_has_the_sensitivity_bars_and_table(tmp_path):
    spec = tmp_path / "tiny_sobol.toml"
    spec.write_text(SOBOL_SPEC)
    out = tmp_path / "tiny_sobol"
    assert cli.main(["sweep", str(spec), "--workers", "0", "--out", str(out)]) == 0  # 8 x (2 + 2) = 32 runs
    text = report(out)
    pngs = figures(out / "report")
    assert "fig-sensitivity.png" in {p.name for p in pngs}
    assert len(IMG.findall(text)) == len(pngs)
    assert_png_sizes(pngs)
    assert_self_contained(text)
    table = text[text.index("<h2>Sensitivity</h2>") :]
    table = table[: table.index("</table>")]
    for factor in ("uncertainties.inflation_rate", "uncertainties.completion_rate"):
        assert factor in table
    # first-order and total indices with intervals for each goal indicator and factor
    rows = re.findall(r"<tr><td>baseline</td>.*?</tr>", table)
    assert len(rows) == 2 * 4
    for row in rows:
        first, total = re.findall(r"(-?\d+\.\d\d) \((-?\d+\.\d\d) to (-?\d+\.\d\d)\)", row)
        for _, low, high in (first, total):  # 8 samples: estimates are rough, even above 1
            assert float(low) <= float(high)
    fa = report(out, "--lang", "fa", out=tmp_path / "fa.html")
    assert "<h2>حساسیت</h2>" in fa and "fig-sensitivity" in fa


@pytest.mark.parametrize(
    ("flags", "said"), [([], "smesim: error: {dir}: not a run directory"), (["--lang", "de"], "invalid choice: 'de'")]
)
def test_bad_input_exits_2_with_one_line(tmp_path, capsys, flags, said):
    (tmp_path / "empty").mkdir()
    assert cli.main(["report", str(tmp_path / "empty"), *flags]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and said.format(dir=tmp_path / "empty") in err
    assert list((tmp_path / "empty").iterdir()) == []  # nothing written


# --- reports officials can skim: headline, cost, inputs in words, provenance folded, print ----------

SINGLE = """description = "one replication, every goal checked at month 4"
seed = 5
months = 4
scale = 0.02
replications = 1
[goals.activation]
month = 4
[goals.exports]
month = 4
[goals.export_share]
month = 4
[goals.employment_share]
month = 4
"""


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    """A comparison of one replication each, every goal checked: today's policies and training."""
    root = tmp_path_factory.mktemp("single")
    (root / "baseline.toml").write_text(SINGLE)
    (root / "training.toml").write_text(SINGLE + "[levers.training]\nbudget_usd = 5e6\n")
    runs = root / "runs"
    for name in ("baseline", "training"):
        assert cli.main(["run", str(root / f"{name}.toml"), "--out", str(runs / name)]) == 0
    return runs


def section(text: str, start: str, end: str) -> str:
    return text[text.index(start) : text.index(end, text.index(start))]


def visible(text: str) -> str:
    """The report's text as a reader sees it (no style, tags or embedded images)."""
    return html.unescape(re.sub(r"<style.*?</style>|<[^>]*>", " ", text, flags=re.S))


def at_horizon(run, column) -> pd.Series:
    frame = pd.read_parquet(run / "indicators.parquet")
    return frame[frame["month"] == frame["month"].max()].set_index("replication")[column]


def test_the_headline_and_the_cost_come_first_and_from_the_data(comparison):
    text = report(comparison)
    words = Words("en")
    headline = section(text, '<section class="headline">', "</section>")
    assert text.index(headline) < text.index("<h2>Cost</h2>") < text.index("<h2>Summary</h2>")
    spend = at_horizon(comparison / "ministry_plan", "policy_spend_usd")
    extra = (spend - at_horizon(comparison / "baseline", "policy_spend_usd")).mean()
    plan, baseline = (at_horizon(comparison / name, "employment") for name in ("ministry_plan", "baseline"))
    jobs = (plan - baseline).mean()
    activated = at_horizon(comparison / "ministry_plan", "units_activated_distinct").mean()
    assert extra > 0 and jobs > 0  # the plan spends and adds jobs at this seed and scale
    assert f"ministry_plan: units activated {words.value('units_activated_distinct', activated)} by month 4" in headline
    assert f"against baseline, at a fiscal cost of {words.money(spend.mean())}" in headline
    assert "its goals cannot be checked yet: they are for month 48, the runs end at month 4" in headline
    assert text.count("cannot be checked, the runs end at month 4, before month 48") == 1  # one line, not four
    assert f"Each extra job costs {words.money(extra / jobs)}" in headline
    cost = section(text, "<h2>Cost</h2>", "</table>")
    assert "fiscal cost to month 4" in cost and "per extra dollar of yearly exports" in cost
    assert f"<td>{words.money(extra / jobs)}</td>" in cost
    inputs = inputs_section(text)
    assert "Training and trade fairs: USD 5.0 m a year" in inputs and "training.budget_usd" not in inputs
    assert "seed 1, 2 replications, 4 months, 2% of the real population" in inputs


def test_cost_per_job_is_not_defined_without_a_gain(comparison, tmp_path):
    for name in ("baseline", "same"):  # the baseline against itself: no extra jobs, exports or cost
        shutil.copytree(comparison / "baseline", tmp_path / "twice" / name)
    text = visible(report(tmp_path / "twice"))
    cost = section(text, "Cost", "Summary")
    assert "not defined: no extra jobs" in cost and "not defined: no extra exports" in cost
    assert not re.search(r"\b(nan|inf|n/a)\b", text)
    assert "Each extra job costs" not in text


def test_one_replication_is_said_in_words_with_no_empty_intervals(single):
    text = report(single)
    shown = visible(text)
    assert "1 replication per scenario" in shown and "seed 5, 1 replication, 4 months" in shown
    assert "1 replications" not in shown and "n/a" not in shown and "no data to no data" not in shown
    assert "no interval with a single pair" in shown
    assert re.search(r"training: .*; it meets [0-4] of 4 goals \(in at least half of its replications\)\.", shown)
    assert "Training and trade fairs: USD 5.0 m a year" in shown


def test_provenance_is_folded_at_the_end_and_the_report_prints(comparison):
    text = report(comparison)
    details = section(text, '<details class="provenance">', "</details>")
    assert text.index(details) > text.index("<h2>Inputs</h2>")
    assert "<code>git</code>" in details and "scenario sha256" in details and "model_seeds" in details
    assert "scenario sha256" not in text.replace(details, "")  # nowhere else
    assert "<summary>Provenance: code version, seeds, files and checksums</summary>" in details
    style = section(text, "<style>", "</style>")
    printed = style[style.index("@media print") :]
    assert re.search(r"details\.provenance[^{]*\{ display: none; \}", printed)
    assert "break-inside: avoid" in printed and "color: #000" in printed
    assert '<p class="print-only">' in text


def test_a_sweep_named_sweep_is_not_called_sweep_twice(sweep, tmp_path):
    shutil.copytree(sweep, tmp_path / "sweep-quick", ignore=shutil.ignore_patterns("report"))
    text = visible(report(tmp_path / "sweep-quick"))
    assert "Simulation report: sweep-quick" in text and "sweep sweep" not in text
    assert "clinics: units activated" in text and "at a fiscal cost of USD" in text
    assert "policy clinics: levers" in text and "Industry clinics: USD 20.0 m a year" in text
    assert "4 runs per policy" in text and "n/a" not in text
    assert "seed 1, 2 replications, 3 months, 2% of the real population; factorial design" in text
    table = text[text.index("Comparison at month 3") :]
    exports = re.search(r"SME exports \(USD a year\)\s+([^()]+\([^()]+\))", table).group(1)
    assert len(set(re.findall(r"\d (m|bn)\b", exports))) == 1 and exports.count(" m") == 3, exports  # one unit


def test_persian_report_has_the_headline_cost_and_inputs_in_persian(single, tmp_path):
    text = report(single, "--lang", "fa", out=tmp_path / "fa.html")
    shown = visible(text)
    assert "به طور خلاصه" in shown and "هزینهٔ مالی تا ماه 4" in shown
    assert re.search(r"training: .*، با هزینهٔ مالی .* دلار؛ به [0-4] از 4 هدف می‌رسد", shown)
    assert "آموزش و نمایشگاه‌ها: 5.0 میلیون دلار در سال" in shown
    assert "1 تکرار" in shown and "با یک جفت، بازه‌ای در کار نیست" in shown
    assert "<summary>منشأ: نسخهٔ کد، بذرها، فایل‌ها و چکیده‌ها</summary>" in text
    folded = section(text, '<details class="provenance">', "</details>")  # its keys stay as code
    assert not re.search(r"\b(n/a|no data|replications?)\b", visible(text.replace(folded, "")))
