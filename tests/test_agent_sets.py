"""`model.agents` made on demand behaves as Mesa users expect (simulation.agent_sets)."""

import gc
import pickle

import mesa
import numpy as np
import pytest

from simulation import SMEModel
from simulation.agents import Firm
from simulation.state import STATUS_NAMES


@pytest.fixture(scope="module")
def model():
    model = SMEModel(rng=11, scale=0.01)
    model.run(3)
    return model


class Bank(mesa.Agent):
    """An agent of another kind, added by a user's subclass."""

    def __init__(self, model):
        super().__init__(model)
        self.visits = 0

    def step(self):
        self.visits += 1


class WithBanks(SMEModel):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.banks = [Bank(self) for _ in range(3)]


def test_every_unit_is_an_agent_in_firm_id_order(model):
    agents = list(model.agents)
    assert len(model.agents) == len(agents) == model.firms.n
    assert [a.firm_id for a in agents] == list(range(model.firms.n))
    assert [a.unique_id for a in agents[:3]] == [1, 2, 3]
    assert all(isinstance(a, Firm) and isinstance(a, mesa.Agent) for a in agents[:10])
    assert model.firm(5) in model.agents
    assert model.agent_types == [Firm]


def test_an_agent_keeps_its_identity_while_held(model):
    held = model.firm(7)
    assert model.firm(7) is held
    assert model.agents.select(lambda a: a.firm_id == 7).to_list()[0] is held
    assert next(a for a in model.agents if a.firm_id == 7) is held
    del held
    gc.collect()
    again = model.firm(7)
    assert again == SMEModel.firm(model, 7) and hash(again) == hash(model.firm(7))
    assert again != model.firm(8)


def test_select_returns_a_set_that_keeps_its_agents(model):
    active = model.agents.select(lambda a: a.status == "active")
    gc.collect()  # the agents were made on the fly: the selection must hold them
    assert len(active) == np.count_nonzero(model.firms.status == STATUS_NAMES.index("active"))
    assert all(a.status == "active" for a in active)
    assert len(model.agents.select(at_most=10)) == 10
    assert len(model.agents.select(at_most=0.5)) == model.firms.n // 2
    assert len(model.agents.select(agent_type=Firm)) == model.firms.n
    assert len(active.select(lambda a: a.is_sme)) == np.count_nonzero(
        (model.firms.status == STATUS_NAMES.index("active")) & model.firms.is_sme
    )


def test_get_agg_map_and_groupby_read_the_arrays(model):
    assert model.agents.agg("employees", sum) == pytest.approx(model.firms.employees.sum())
    assert model.agents.get("firm_id")[:4] == [0, 1, 2, 3]
    assert model.agents.map(lambda a: a.firm_id)[-1] == model.firms.n - 1
    counts = model.agents.groupby("status").count()
    for code, name in enumerate(STATUS_NAMES):
        assert counts.get(name, 0) == np.count_nonzero(model.firms.status == code)
    groups = model.agents.groupby("status")
    gc.collect()
    assert sum(len(group) for _, group in groups) == model.firms.n


def test_shuffle_and_sort_are_reproducible_views(model):
    first = [a.firm_id for a in SMEModel(rng=3, scale=0.01).agents.shuffle()]
    second = [a.firm_id for a in SMEModel(rng=3, scale=0.01).agents.shuffle()]
    assert first == second and sorted(first) == list(range(len(first))) and first != sorted(first)
    by_size = model.agents.sort("employees", ascending=False)
    sizes = [a.employees for a in by_size]
    assert sizes == sorted(sizes, reverse=True)


def test_do_and_shuffle_do_call_every_agent(model):
    seen = []
    model.agents.do(lambda a: seen.append(a.firm_id))
    assert seen == list(range(model.firms.n))
    seen.clear()
    model.agents.shuffle_do(lambda a: seen.append(a.firm_id))
    assert sorted(seen) == list(range(model.firms.n))
    model.agents.shuffle_do("step")  # Mesa's default step: nothing happens to the arrays


def test_new_units_are_agents_at_once():
    model = SMEModel(rng=4, scale=0.01)
    before = len(model.agents)
    model.run(4)
    assert len(model.agents) == model.firms.n > before
    assert model.firm(model.firms.n - 1).status == "under_construction"
    with pytest.raises(IndexError, match="not a unit"):
        model.firm(model.firms.n)


def test_a_subclass_adds_agents_of_another_kind():
    model = WithBanks(rng=4, scale=0.01)
    n = model.firms.n
    assert len(model.agents) == n + 3
    assert list(model.agents)[n:] == model.banks
    assert set(model.agent_types) == {Firm, Bank}
    assert len(model.agents_by_type[Firm]) == n and list(model.agents_by_type[Bank]) == model.banks
    ids = [a.unique_id for a in model.agents]
    assert len(set(ids)) == len(ids)  # firms and banks never share an id
    model.agents.shuffle_do("step")
    assert [b.visits for b in model.banks] == [1, 1, 1]
    assert len(model.agents.select(agent_type=Bank)) == 3
    model.banks[0].remove()
    assert len(model.agents) == n + 2 and model.banks[0] not in model.agents
    model.step()
    assert len(model.agents) == model.firms.n + 2


def test_the_model_maintains_its_agents(model):
    for change in (
        lambda: model.agents.add(model.firm(0)),
        lambda: model.agents.remove(model.firm(0)),
        lambda: model.agents.select(lambda a: a.is_sme, inplace=True),
        lambda: model.firm(0).remove(),
    ):
        with pytest.raises(TypeError):
            change()
    assert len(model.agents) == model.firms.n


def test_datacollector_agent_reporters_and_batch_run():
    model = SMEModel(rng=2, scale=0.005)
    collector = mesa.DataCollector(agent_reporters={"employees": "employees"})
    collector.collect(model)
    frame = collector.get_agent_vars_dataframe()
    assert len(frame) == model.firms.n
    assert frame["employees"].sum() == pytest.approx(model.firms.employees.sum())
    by_type = mesa.DataCollector(agenttype_reporters={Firm: {"sme": "is_sme"}})
    by_type.collect(model)
    assert by_type.get_agenttype_vars_dataframe(Firm)["sme"].sum() == np.count_nonzero(model.firms.is_sme)
    results = mesa.batch_run(
        SMEModel, {"scale": 0.005}, rng=[1], max_steps=2, data_collection_period=1, display_progress=False
    )
    assert len(results) == 3 and {"active_units", "Step"} <= set(results[0])


def test_a_model_pickles_with_its_agents(model):
    copy = pickle.loads(pickle.dumps(model))
    assert len(copy.agents) == model.firms.n
    assert copy.firm(3).employees == model.firm(3).employees


def test_solaraviz_renders_components_that_read_the_agents():
    """Mesa's SolaraViz page, rendered by solara (no browser): a component reading model.agents
    sees every unit."""
    import ipyvuetify
    import solara
    from mesa.visualization import SolaraViz

    @solara.component
    def AgentCount(model):
        active = model.agents.select(lambda a: a.status == "active")
        solara.Text(f"agents {len(model.agents)}, active {len(active)}")

    model = SMEModel(rng=1, scale=0.01)
    _, rendered = solara.render(SolaraViz(model, components=[AgentCount], model_params={}), handle_error=False)
    texts = [
        child for html in rendered.find(ipyvuetify.Html).widgets for child in html.children if isinstance(child, str)
    ]
    active = np.count_nonzero(model.firms.status == STATUS_NAMES.index("active"))
    assert f"agents {model.firms.n}, active {active}" in texts
