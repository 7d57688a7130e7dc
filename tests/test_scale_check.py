"""The scale check (experiments/analysis/scale_check.py): its statistics on synthetic runs tables
whose answer is known, its command line's refusals, and one real, cheap run end to end."""

import numpy as np
import pandas as pd
import pytest

from experiments import cli
from experiments.analysis.scale_check import (
    COLUMNS,
    TOLERANCE,
    format_scale_check,
    scale_check,
    scale_statistics,
    verdict,
)
from simulation.errors import InputError

SEEDS = 20
SMALL, FULL = 0.1, 1.0


def synthetic_runs(effects: dict[str, dict[float, np.ndarray]], levels: dict[str, dict[float, np.ndarray]]):
    """A runs table: for each indicator, the baseline's level per seed and the policy's paired
    effect per seed at each scale (the policy's value = the baseline's + the effect)."""
    rows = []
    for scale in (SMALL, FULL):
        for r in range(SEEDS):
            base = {name: levels[name][scale][r] for name in levels}
            rows.append({"scenario": "baseline", "scale": scale, "replication": r, **base})
            policy = {name: base[name] + effects[name][scale][r] for name in effects}
            rows.append({"scenario": "policy", "scale": scale, "replication": r, **policy})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def known():
    """Indicators with a known answer:
    same: the same effects at both scales (ratio exactly 1);
    halved: the effect at the small scale is half the full scale's (ratio 0.5);
    zero: no effect at all (policy = baseline);
    noise: an effect indistinguishable from 0 at full scale, and a clear one at the small scale."""
    rng = np.random.default_rng(7)
    effect = 100 + rng.normal(0, 5, SEEDS)
    level = 1000 + rng.normal(0, 10, SEEDS)
    effects = {
        "same": {SMALL: effect, FULL: effect},
        "halved": {SMALL: 50 + rng.normal(0, 2.5, SEEDS), FULL: effect},
        "zero": {SMALL: np.zeros(SEEDS), FULL: np.zeros(SEEDS)},
        "noise": {SMALL: 100 + rng.normal(0, 1, SEEDS), FULL: rng.normal(0, 1, SEEDS) - rng.normal(0, 1, SEEDS)},
    }
    levels = {
        "same": {SMALL: level, FULL: level},  # an unbiased baseline
        "halved": {SMALL: 0.8 * level, FULL: level},  # a baseline 20% too low at the small scale
        "zero": {SMALL: level, FULL: level},
        "noise": {SMALL: level, FULL: level},
    }
    runs = synthetic_runs(effects, levels)
    frame = scale_statistics(runs, FULL, indicators=list(effects))
    return runs, frame


def row(frame, indicator, scale=SMALL, measure="effect"):
    found = frame[(frame.indicator == indicator) & (frame.scale == scale) & (frame.measure == measure)]
    assert len(found) == 1
    return found.iloc[0]


def test_the_table_has_one_row_per_policy_indicator_and_scale(known):
    _, frame = known
    assert list(frame.columns) == list(COLUMNS)
    assert len(frame) == 2 * 4 * 2  # (policy, baseline) x indicators x scales
    assert list(frame.policy.unique()) == ["policy", "baseline"]
    assert set(frame[frame.policy == "baseline"].measure) == {"level"}
    assert (frame.seeds == SEEDS).all()
    assert (frame.reference_scale == FULL).all()


def test_a_ratio_of_exactly_one_agrees(known):
    _, frame = known
    same = row(frame, "same")
    assert same.ratio == pytest.approx(1.0)
    assert same.ratio_low <= 1.0 <= same.ratio_high
    assert same.effect == pytest.approx(same.reference_effect)
    assert same.verdict == "agrees" and same.agrees


def test_a_halved_effect_differs_with_an_interval_around_a_half(known):
    _, frame = known
    halved = row(frame, "halved")
    assert halved.ratio == pytest.approx(0.5, abs=0.02)
    assert 0.4 < halved.ratio_low < 0.5 < halved.ratio_high < 0.6
    assert halved.verdict == "differs" and not halved.agrees


def test_a_zero_effect_is_a_small_effect(known):
    _, frame = known
    zero = row(frame, "zero")
    assert zero.effect == 0 and zero.reference_effect == 0
    assert zero.reference_low <= 0 <= zero.reference_high
    assert zero.verdict == "small effect: agrees" and zero.agrees


def test_a_small_reference_effect_is_judged_by_the_overlap_of_the_intervals(known):
    _, frame = known
    noise = row(frame, "noise")
    assert noise.reference_low < 0 < noise.reference_high  # the ratio (about 100 / 0) means nothing
    assert noise.effect_low > noise.reference_high  # and the intervals do not overlap
    assert noise.verdict == "small effect: differs" and not noise.agrees


def test_the_effects_and_their_intervals_are_t_intervals_of_the_paired_differences(known):
    runs, frame = known
    halved = row(frame, "halved")
    small = runs[runs.scale == SMALL]
    diffs = (
        small[small.scenario == "policy"].set_index("replication")["halved"]
        - small[small.scenario == "baseline"].set_index("replication")["halved"]
    )
    assert halved.effect == pytest.approx(diffs.mean())
    half = 2.093024 * diffs.std(ddof=1) / np.sqrt(SEEDS)  # t(0.975, 19)
    assert (halved.effect_low, halved.effect_high) == pytest.approx((diffs.mean() - half, diffs.mean() + half))


def test_the_baseline_level_check_finds_a_biased_baseline(known):
    _, frame = known
    unbiased, biased = row(frame, "same", measure="level"), row(frame, "halved", measure="level")
    assert unbiased.ratio == pytest.approx(1.0) and unbiased.verdict == "agrees"
    assert biased.ratio == pytest.approx(0.8) and biased.ratio_high < 0.9 and biased.verdict == "differs"


def test_the_reference_scale_rows_are_the_reference(known):
    _, frame = known
    at_full = frame[frame.scale == FULL]
    assert (at_full.verdict == "reference").all() and at_full.agrees.all()
    assert (at_full.effect == at_full.reference_effect).all() and (at_full.ratio == 1.0).all()


def test_the_statistics_do_not_depend_on_the_order_of_the_runs(known):
    runs, frame = known
    shuffled = runs.sample(frac=1.0, random_state=3).reset_index(drop=True)
    pd.testing.assert_frame_equal(
        scale_statistics(shuffled, FULL, indicators=["same", "halved", "zero", "noise"]), frame
    )


def test_a_rows_bootstrap_does_not_depend_on_the_other_rows(known):
    runs, frame = known
    alone = scale_statistics(runs[["scenario", "scale", "replication", "halved"]], FULL, indicators=["halved"])
    assert row(alone, "halved").ratio_low == row(frame, "halved").ratio_low


@pytest.mark.parametrize(
    "ratio, low, high, expected",
    [
        (1.0 + TOLERANCE, 1.05, 1.15, "agrees"),  # within the tolerance, even if the interval excludes 1
        (1.3, 0.9, 1.7, "agrees"),  # outside it, but the interval contains 1
        (1.3, 1.2, 1.4, "differs"),
        (0.7, 0.6, 0.8, "differs"),
    ],
)
def test_verdict_of_a_clear_reference_effect(ratio, low, high, expected):
    assert verdict(ratio, low, high, 5.0, 7.0, 4.0, 6.0) == expected


def test_verdict_of_a_small_reference_effect_ignores_the_ratio():
    assert verdict(1.0, 0.99, 1.01, 5.0, 7.0, -1.0, 4.0) == "small effect: differs"
    assert verdict(50.0, 40.0, 60.0, 3.0, 7.0, -1.0, 4.0) == "small effect: agrees"


def test_fewer_than_two_seeds_are_refused(known):
    runs, _ = known
    with pytest.raises(InputError, match="fewer than two seeds"):
        scale_statistics(runs[runs.replication == 0], FULL, indicators=["same"])


def test_a_runs_table_without_the_reference_scale_is_refused(known):
    runs, _ = known
    with pytest.raises(InputError, match="reference scale"):
        scale_statistics(runs, 0.5, indicators=["same"])


def test_the_text_table_names_each_policy_scale_and_verdict(known):
    _, frame = known
    text = format_scale_check(frame)
    assert text.count("\nindicator") == 2  # one table for the policy, one for the baseline's level
    assert "policy: paired effect" in text and "baseline: the baseline's level" in text
    for word in ("agrees", "differs", "small effect: agrees", "small effect: differs", "reference"):
        assert word in text
    halved = row(frame, "halved")  # its ratio with its interval
    assert f"{halved.ratio:.2f} ({halved.ratio_low:.2f} to {halved.ratio_high:.2f})  differs" in text


# --- the command line ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, flag",
    [
        (["--scales", "0,0.1"], "--scales"),
        (["--scales", "1.5"], "--scales"),
        (["--scales", "abc"], "--scales"),
        (["--scales", "0.0001"], "--scales"),  # the model refuses so few units
        (["--scales", "1"], "--scales"),  # nothing to compare with the reference
        (["--reference-scale", "0"], "--reference-scale"),
        (["--seeds", "1"], "--seeds"),
        (["--seeds", "many"], "--seeds"),
        (["--months", "0"], "--months"),
        (["--workers", "-1"], "--workers"),
        (["--policies", "no_such_scenario"], "--policies"),
        (["--policies", "baseline"], "--policies"),
        (["--scale", "0.1"], "--scale"),  # the stylised facts' flag
    ],
)
def test_bad_flags_exit_2_with_one_line(tmp_path, capsys, args, flag):
    out = tmp_path / "out"
    assert cli.main(["validate", "--scale-check", *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and flag in err, err
    assert not out.exists()


def test_scale_check_flags_need_scale_check(capsys):
    assert cli.main(["validate", "--seeds", "3"]) == 2
    assert "--seeds: needs --scale-check" in capsys.readouterr().err


# --- a real run -----------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.integration
def test_a_real_scale_check_end_to_end(tmp_path, capsys):
    def check(workers):
        return scale_check(["lever_clinics"], [0.05], 3, months=6, reference_scale=0.1, workers=workers, progress=False)

    frame = check(workers=2)
    assert list(frame.columns) == list(COLUMNS)
    assert len(frame) == 2 * 4 * 2  # (lever_clinics, baseline) x 4 indicators x 2 scales
    assert list(frame.policy.unique()) == ["lever_clinics", "baseline"]
    assert (frame.seeds == 3).all() and frame.effect.notna().all()
    pd.testing.assert_frame_equal(check(workers=0), frame)  # whatever the workers

    out = tmp_path / "validation"
    args = ["--policies", "lever_clinics", "--scales", "0.05", "--reference-scale", "0.1", "--seeds", "3"]
    assert cli.main(["validate", "--scale-check", *args, "--months", "6", "--workers", "2", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "lever_clinics: paired effect" in printed and "written to" in printed
    written = pd.read_csv(out / "scale_check.csv")
    pd.testing.assert_frame_equal(written, frame, check_dtype=False)
    assert sorted(p.name for p in out.iterdir()) == ["scale_check.csv"]  # no temporary file left behind
