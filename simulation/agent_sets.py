"""`model.agents` without 212,000 agent objects: Firm agents made when asked for.

Every unit is a row of the firm arrays (simulation.state); its Mesa agent (simulation.agents.Firm)
is a thin view onto that row. Making and registering one object per unit with Mesa cost most of
a run's construction and a quarter of each month, for objects nothing in the step uses. So the
model's `agents` is an `OnDemandAgents`: a Mesa agent set over all rows plus the agents of other
kinds that Mesa registers as usual (a user's subclass may add its own). A `Firm` is made when it
is iterated, selected or looked up, and the same object comes back while anyone holds it
(a weak cache); two views of one row are equal and hash alike in any case.

What Mesa's sets give views of (`select`, `shuffle`, `sort`, `groupby`, `copy`) is an
`AgentList`: a set with strong references, because Mesa's own `AgentSet` holds weak ones and
agents made on the fly would vanish from it at once.
"""

from __future__ import annotations

import operator
import weakref
from collections.abc import Callable, Collection, Iterable, Iterator
from functools import partial
from random import Random
from typing import Any

import mesa
from mesa.agentset import AbstractAgentSet

from .agents import Firm

__all__ = ["AgentList", "OnDemandAgents"]


class AgentList(AbstractAgentSet):
    """An ordered set of agents held by strong references; what selections of `model.agents`
    return (so firm views made on the fly stay in it)."""

    def __init__(self, agents: Iterable[mesa.Agent], random: Random | None = None):
        self._agents: dict[mesa.Agent, None] = dict.fromkeys(agents)
        self.random = random if random is not None else Random()

    def __len__(self) -> int:
        return len(self._agents)

    def __iter__(self) -> Iterator[mesa.Agent]:
        return iter(list(self._agents))

    def __contains__(self, agent) -> bool:
        return agent in self._agents

    def __getitem__(self, item):
        return list(self._agents)[item]

    def _update(self, agents: Iterable[mesa.Agent]) -> AgentList:
        self._agents = dict.fromkeys(agents)
        return self

    def add(self, agent: mesa.Agent) -> None:
        self._agents[agent] = None

    def discard(self, agent: mesa.Agent) -> None:
        self._agents.pop(agent, None)

    def remove(self, agent: mesa.Agent) -> None:
        del self._agents[agent]

    def copy(self) -> AgentList:
        return AgentList(self._agents, self.random)

    __copy__ = copy

    def shuffle(self, inplace: bool = False) -> AgentList:
        agents = list(self._agents)
        self.random.shuffle(agents)
        return self._update(agents) if inplace else AgentList(agents, self.random)

    def sort(self, key: Callable | str, ascending: bool = False, inplace: bool = False) -> AgentList:
        key = operator.attrgetter(key) if isinstance(key, str) else key
        agents = sorted(self._agents, key=key, reverse=not ascending)
        return self._update(agents) if inplace else AgentList(agents, self.random)

    def do(self, method: str | Callable, *args, **kwargs) -> AgentList:
        _call_each(list(self._agents), self, method, args, kwargs)
        return self

    def shuffle_do(self, method: str | Callable, *args, **kwargs) -> AgentList:
        agents = list(self._agents)
        self.random.shuffle(agents)
        _call_each(agents, self, method, args, kwargs)
        return self

    def map(self, method: str | Callable, *args, **kwargs) -> list[Any]:
        return _call_each(list(self._agents), self, method, args, kwargs)


class OnDemandAgents(AbstractAgentSet):
    """All agents of an SMEModel: one Firm per row of its firm arrays, in `firm_id` order, then the
    agents of other kinds Mesa registered (`firms_only=True`: the firms alone, for
    `model.agents_by_type[Firm]`). Maintained by the model: agents are added by creating them
    (new units by the model, other agents by `Agent(model)`), not through this set."""

    def __init__(self, model, firms_only: bool = False, views: weakref.WeakValueDictionary | None = None):
        self.model = model
        self.firms_only = firms_only
        self._views: weakref.WeakValueDictionary[int, Firm] = weakref.WeakValueDictionary() if views is None else views

    @property
    def random(self) -> Random:
        return self.model.random

    def firm(self, firm_id: int) -> Firm:
        """The agent of row `firm_id` (the object already handed out, if anyone still holds it)."""
        view = self._views.get(firm_id)
        if view is None:
            if not 0 <= firm_id < self.model.firms.n:
                raise IndexError(f"firm_id {firm_id} is not a unit of this model (0 to {self.model.firms.n - 1})")
            view = self._views[firm_id] = Firm(self.model, firm_id)
        return view

    def firms_alone(self) -> OnDemandAgents:
        """The same agents without those of other kinds, sharing the cache of views."""
        return OnDemandAgents(self.model, firms_only=True, views=self._views)

    def _others(self) -> Collection[mesa.Agent]:
        return () if self.firms_only else self.model.registered_agents()

    def __len__(self) -> int:
        return self.model.firms.n + len(self._others())

    def __iter__(self) -> Iterator[mesa.Agent]:
        for firm_id in range(self.model.firms.n):
            yield self.firm(firm_id)
        yield from list(self._others())

    def __contains__(self, agent) -> bool:
        if isinstance(agent, Firm):
            return agent.model is self.model and 0 <= agent.firm_id < self.model.firms.n
        return agent in self._others()

    def __getitem__(self, item):
        return self.to_list()[item]

    def to_list(self) -> list[mesa.Agent]:
        return list(self)

    def get(self, attr_names, handle_missing="error", default_value=None):
        return AgentList(self, self.random).get(attr_names, handle_missing, default_value)

    def copy(self) -> AgentList:
        return AgentList(self, self.random)

    __copy__ = copy

    def select(self, filter_func=None, at_most=float("inf"), inplace=False, agent_type=None) -> AbstractAgentSet:
        if inplace:
            _refuse_change()
        return AgentList(self, self.random).select(filter_func, at_most, True, agent_type)

    def groupby(self, by, result_type="agentset"):
        return AgentList(self, self.random).groupby(by, result_type)

    def shuffle(self, inplace: bool = False) -> AgentList:
        if inplace:
            _refuse_change()
        return AgentList(self, self.random).shuffle(inplace=True)

    def sort(self, key, ascending: bool = False, inplace: bool = False) -> AgentList:
        if inplace:
            _refuse_change()
        return AgentList(self, self.random).sort(key, ascending, inplace=True)

    def do(self, method: str | Callable, *args, **kwargs) -> OnDemandAgents:
        _call_each(list(self), self, method, args, kwargs)
        return self

    def shuffle_do(self, method: str | Callable, *args, **kwargs) -> OnDemandAgents:
        agents = list(self)
        self.random.shuffle(agents)
        _call_each(agents, self, method, args, kwargs)
        return self

    def map(self, method: str | Callable, *args, **kwargs) -> list[Any]:
        return _call_each(list(self), self, method, args, kwargs)

    def _update(self, agents):
        _refuse_change()

    def add(self, agent) -> None:
        _refuse_change()

    def discard(self, agent) -> None:
        _refuse_change()

    def remove(self, agent) -> None:
        _refuse_change()

    def __getstate__(self) -> dict:
        return {"model": self.model, "firms_only": self.firms_only}  # the weak cache does not pickle

    def __setstate__(self, state: dict) -> None:
        self.model, self.firms_only = state["model"], state["firms_only"]
        self._views = weakref.WeakValueDictionary()


def _call_each(agents: list, members, method: str | Callable, args: tuple, kwargs: dict) -> list[Any]:
    """Call `method` on each agent still in `members` (as Mesa does: one removed by an earlier
    call is skipped)."""
    if isinstance(method, str):
        call: Callable = operator.methodcaller(method, *args, **kwargs)
    else:
        call = partial(_call_with, method, args, kwargs)
    return [call(agent) for agent in agents if agent in members]


def _call_with(function: Callable, args: tuple, kwargs: dict, agent) -> Any:
    return function(agent, *args, **kwargs)


def _refuse_change():
    raise TypeError(
        "model.agents is maintained by the model: new units are added by the model, agents of other kinds "
        "by creating them (Agent(model)) and removed with agent.remove(); select from it with inplace=False"
    )
