"""Goal-first search (`smesim search`): the cheapest mix of levers that meets goals with a
required probability, found with surrogates over sweeps and verified on fresh seeds."""

from experiments.search.search import run_search
from experiments.search.spec import load_search_spec

__all__ = ["load_search_spec", "run_search"]
