"""smesim report: one self-contained HTML file with every figure embedded, in English and Persian,
for a run, a comparison directory and a sweep directory."""

import json
import re
import shutil

import matplotlib.image
import pandas as pd
import pytest

from experiments import cli
from experiments.report.figures import PIXELS

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
