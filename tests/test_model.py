"""The Mesa model: constructor, agents, indicator contract, firm frame, batch_run."""

import mesa
import numpy as np
import pandas as pd
import pytest

from simulation import CONTRACT, SMEModel
from simulation.errors import InputError
from simulation.state import STATUS_NAMES

FRAME_COLUMNS = {
    "firm_id",
    "status",
    "is_sme",
    "employees",
    "productivity",
    "exports_usd",
    "in_park",
    "cluster_id",
    "consortium_id",
    "age_months",
}


def test_is_a_mesa_model_with_firm_agents(small_run):
    assert isinstance(small_run, mesa.Model)
    agent = small_run.firm(0)
    assert isinstance(agent, mesa.Agent)
    assert small_run.agents.select(lambda a: a.firm_id == 0).to_list() == [agent]
    assert len(small_run.agents) == small_run.firms.n


def test_indicator_contract_in_dict_and_datacollector(small_run):
    ind = small_run.indicators()
    assert set(CONTRACT) <= set(ind)
    frame = small_run.datacollector.get_model_vars_dataframe()
    assert set(CONTRACT) <= set(frame.columns)
    assert len(frame) == 25  # month 0 plus 24 steps
    assert frame.iloc[-1][list(CONTRACT)].to_dict() == pytest.approx({k: ind[k] for k in CONTRACT})


def test_firm_frame(small_run):
    frame = small_run.firm_frame()
    assert set(frame.columns) >= FRAME_COLUMNS
    assert len(frame) == small_run.firms.n
    assert set(frame.status.unique()) <= set(STATUS_NAMES)
    assert (frame.firm_id.to_numpy() == np.arange(len(frame))).all()
    counts = frame.status.value_counts()
    ind = small_run.indicators()
    assert counts["active"] / small_run.scale == pytest.approx(ind["active_units"])
    assert (frame.age_months >= 0).all()


def test_agent_is_a_view_onto_its_row():
    model = SMEModel(rng=5, scale=0.01)
    active = np.flatnonzero(model.firms.status == 1)
    agent = model.firm(int(active[0]))
    assert agent.status == "active"
    assert agent.employees == model.firms.employees[active[0]]
    agent.employees = 42.0
    assert model.firms.employees[active[0]] == 42.0
    agent.status = "idle"
    assert model.firms.status[active[0]] == 2
    with pytest.raises(InputError, match="status: must be one of"):
        agent.status = "bankrupt"


def test_agent_attributes_match_the_firm_frame(small_run):
    frame = small_run.firm_frame().set_index("firm_id")
    for agent in small_run.agents.to_list()[::97]:
        row = frame.loc[agent.firm_id]
        assert (agent.status, agent.is_sme, agent.in_park, agent.age_months) == (
            row.status,
            row.is_sme,
            row.in_park,
            row.age_months,
        )
        assert agent.productivity == pytest.approx(row.productivity)
        assert agent.employees == row.employees
        assert (agent.consortium_id, agent.cluster_id, agent.exports_usd) == (
            row.consortium_id,
            row.cluster_id,
            row.exports_usd,
        )
        assert len(agent.export_destinations) == row.export_markets


def test_exporting_agents_name_their_destinations(small_run):
    exporters = small_run.agents.select(lambda firm: firm.exports_usd > 0)
    assert len(exporters) > 0
    for firm in list(exporters)[:20]:
        assert firm.export_destinations and set(firm.export_destinations) <= set(
            small_run.exports_by_destination().index
        )


def test_firm_ids_stable_as_units_are_added():
    model = SMEModel(rng=5, scale=0.01)
    before = model.firm_frame()[["firm_id", "sector", "province"]]
    for _ in range(6):
        model.step()
    after = model.firm_frame()
    assert len(after) > len(before)  # applications added units
    pd.testing.assert_frame_equal(after.iloc[: len(before)][["firm_id", "sector", "province"]], before)
    assert [a.firm_id for a in model.agents] == list(range(len(after)))


@pytest.mark.parametrize(
    ("kwargs", "key", "message"),
    [
        ({"scale": 0.0}, "scale", "must be a number in"),
        ({"scale": 1.5}, "scale", "must be a number in"),
        ({"scale": "big"}, "scale", "must be a number in"),
        ({"scale": 1e-5}, "scale", "samples only 1 industrial units; use scale >= 0.0012"),
        ({"revival_rat": 0.01}, "revival_rat", "unknown model parameter .did you mean 'revival_rate'"),
        ({"revival_rate": -0.1}, "revival_rate", "must lie in its allowed range"),
        ({"revival_rate": "high"}, "revival_rate", "must be a finite number"),
        ({"revival_rate": float("nan")}, "revival_rate", "must be a finite number"),
        ({"initial_smes_in_parks": 80_000}, "initial_smes_in_parks", "must satisfy"),
        ({"rng": -3}, "rng", "non-negative"),
        ({"idling_rate": 0.0001}, "idling_rate", "is 0.0001, below.*young_excess_idling_rate"),
    ],
)
def test_bad_arguments_are_refused_with_a_clear_message(kwargs, key, message):
    args = {"rng": 1, "scale": 0.01, **kwargs}
    with pytest.raises(InputError, match=message) as caught:
        SMEModel(**args)
    assert caught.value.key == key


def test_keyword_arguments_only():
    with pytest.raises(TypeError):
        SMEModel(1, 0.01)


def test_batch_run_over_two_values_and_two_seeds():
    results = mesa.batch_run(
        SMEModel,
        parameters={"scale": 0.01, "revival_rate": [0.005, 0.03]},
        rng=[11, 12],
        max_steps=6,
        number_processes=1,
        data_collection_period=-1,
        display_progress=False,
    )
    frame = pd.DataFrame(results)
    assert len(frame) == 4
    assert set(CONTRACT) <= set(frame.columns)
    assert set(frame.revival_rate) == {0.005, 0.03}
    assert (frame.Step == 6).all()
    mean_revived = frame.groupby("revival_rate").units_revived.mean()
    assert mean_revived[0.03] > mean_revived[0.005]


def test_parameter_names_never_shadow_indicator_columns():
    """batch_run puts parameters and indicators in one row: a shared name would lose one of them."""
    from simulation import INDICATORS
    from simulation.parameters import parameter_names

    assert not set(parameter_names()) & set(INDICATORS)
