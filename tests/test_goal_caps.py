"""What caps a goal (`smesim explain`): the relaxations file, the table from known runs, real runs."""

import math

import numpy as np
import pandas as pd
import pytest

from experiments import cli
from experiments.analysis.goal_caps import (
    ALL_RELAXED,
    COLUMNS,
    RELAXATIONS_FILE,
    Relaxation,
    format_goal_caps,
    goal_cap_runs,
    goal_caps,
    load_relaxations,
)
from experiments.errors import InputFileError
from experiments.inputs.goals import Goal
from simulation.parameters import parameter_metadata

EXPORTS = Goal("exports", "exports_usd", "Export USD 17 bn a year", at_least=17e9, month=48)
IDLE = Goal("few_units", "idle_units", "At most 10,000 idle units", at_most=10_000, month=48)


def known_runs() -> pd.DataFrame:
    """Two seeds; the plan exports 1 and 3 bn (gap 15 bn); 'demand' adds 2 and 4 bn; all adds 15 and 17."""
    plan, demand, together = [1e9, 3e9], [3e9, 7e9], [16e9, 20e9]
    rows = []
    for variant, constraint, values in [
        ("baseline", "", [0.5e9, 1.5e9]),
        ("ministry_plan", "", plan),
        ("demand", "foreign demand", demand),
        (ALL_RELAXED, ALL_RELAXED, together),
    ]:
        for r, v in enumerate(values):
            rows.append(
                {
                    "variant": variant,
                    "constraint": constraint,
                    "replication": r,
                    "exports_usd": v,
                    "idle_units": 20_000 - v / 1e6,
                }
            )
    frame = pd.DataFrame(rows)
    frame.attrs.update(scenario="ministry_plan", baseline="baseline", months=48, scale=0.1, seeds=2)
    return frame


def test_the_table_gives_gains_and_the_gap_closed_from_known_runs():
    table = goal_caps(known_runs(), {"exports": EXPORTS}).set_index("variant")
    assert list(table.columns) == [c for c in COLUMNS if c != "variant"]
    assert table.loc["ministry_plan", "mean"] == 2e9 and math.isnan(table.loc["ministry_plan", "gain"])
    assert table.loc["demand", "gain"] == pytest.approx(3e9)  # +2 and +4 bn
    assert table.loc["demand", "gap_closed"] == pytest.approx(3e9 / 15e9)
    assert table.loc[ALL_RELAXED, "met"] == 1 and table.loc["demand", "met"] == 0
    text = format_goal_caps(goal_caps(known_runs(), {"exports": EXPORTS}), "ministry_plan")
    assert "Binds most: foreign demand" in text and "met in 1 of 2 runs" in text


def test_a_goal_at_most_closes_its_gap_by_falling():
    table = goal_caps(known_runs(), {"few_units": IDLE}).set_index("variant")
    # the plan leaves 18,000 idle (gap 8,000); demand lowers that by 3,000
    assert table.loc["demand", "gap_closed"] == pytest.approx(3_000 / 8_000)


def test_a_goal_the_scenario_meets_has_no_gap_to_close():
    met = Goal("exports", "exports_usd", "Export USD 1 bn", at_least=1e9, month=48)
    table = goal_caps(known_runs(), {"exports": met})
    assert table["gap_closed"].isna().all()
    assert "nothing binds" in format_goal_caps(table, "ministry_plan")


def test_the_shipped_relaxations_load():
    relaxations = load_relaxations()
    assert len(relaxations) >= 6 and all(r.parameters for r in relaxations)
    assert {"foreign demand", "finance", "sanctions"} <= {r.constraint for r in relaxations}


def test_the_favourable_conditions_stay_within_their_plausible_ranges():
    """experiments/inputs/favourable.toml (docs/ODD.md 9.16): documented conditions, not relaxations."""
    metadata = parameter_metadata()
    favourable = load_relaxations(RELAXATIONS_FILE.with_name("favourable.toml"))
    assert {r.constraint for r in favourable} == {"strong foreign demand", "a real depreciation", "sanctions relief"}
    for relaxation in favourable:
        for name, value in relaxation.parameters.items():
            low, high = metadata[name]["plausible"]
            assert low <= value <= high, (relaxation.constraint, name, value)


@pytest.mark.parametrize(
    "text, key",
    [
        ('[x]\nconstraint = "c"\ndescription = "d"\nparameters = { no_such = 1.0 }\n', "x.parameters.no_such"),
        (
            '[x]\nconstraint = "c"\ndescription = "d"\nparameters = { grant_budget_usd = 1.0 }\n',
            "x.parameters.grant_budget_usd",
        ),
        (
            '[x]\nconstraint = "c"\ndescription = "d"\nparameters = { revivable_share = 2.0 }\n',
            "x.parameters.revivable_share",
        ),
        ('[x]\nconstraint = "c"\nparameters = { revivable_share = 1.0 }\n', "x.description"),
        ('[x]\nconstraint = "c"\ndescription = "d"\nparameters = {}\n', "x.parameters"),
        ("[x\n", None),
    ],
)
def test_a_bad_relaxations_file_names_the_file_and_the_key(tmp_path, text, key):
    path = tmp_path / "relax.toml"
    path.write_text(text)
    with pytest.raises(InputFileError) as caught:
        load_relaxations(path)
    assert caught.value.file == str(path) and caught.value.key == key


def test_real_runs_relax_export_costs_on_paired_seeds():
    """Export costs cut to a tenth after month 0: the same seeds export more within a year."""
    cheap = Relaxation("export_costs", "export costs", "a tenth", {"export_cost_multiplier": 0.1})
    calm = Relaxation("sanctions", "sanctions", "none", {"sanctions_risk_multiplier": 0.0})
    runs = goal_cap_runs("ministry_plan", [cheap, calm], scale=0.02, seeds=2, months=12, workers=0, progress=False)
    assert list(dict.fromkeys(runs["variant"])) == [
        "baseline",
        "ministry_plan",
        "export_costs",
        "sanctions",
        ALL_RELAXED,
    ]
    exports = runs.pivot(index="replication", columns="variant", values="exports_usd")
    assert (exports["export_costs"] > exports["ministry_plan"]).all()
    goal = Goal("exports", "exports_usd", "Export USD 17 bn a year", at_least=17e9, month=12)
    table = goal_caps(runs, {"exports": goal}).set_index("variant")
    assert table.loc["export_costs", "gap_closed"] > 0
    assert np.isfinite(table.loc[ALL_RELAXED, "gain"])


def test_explain_on_the_command_line(tmp_path, capsys):
    relax = tmp_path / "relax.toml"
    relax.write_text(
        '[calm]\nconstraint = "sanctions"\ndescription = "none"\nparameters = { sanctions_risk_multiplier = 0.0 }\n'
    )
    args = [
        "explain",
        "ministry_plan",
        "--relaxations",
        relax,
        "--scale",
        "0.02",
        "--seeds",
        "2",
        "--months",
        "48",
        "--workers",
        "0",
        "--out",
        tmp_path,
    ]
    assert cli.main([str(a) for a in args]) == 0
    out = capsys.readouterr().out
    assert "exports: exports_usd >= 17.0 bn" in out and "sanctions" in out
    assert set(pd.read_csv(tmp_path / "goal_caps.csv")["variant"]) == {"baseline", "ministry_plan", "calm", ALL_RELAXED}
    assert cli.main(["explain", "no_such_scenario", "--relaxations", str(relax)]) == 2
    assert "SCENARIO" in capsys.readouterr().err
    relax.write_text("[x\n")
    assert cli.main(["explain", "--relaxations", str(relax)]) == 2
    assert str(relax) in capsys.readouterr().err
