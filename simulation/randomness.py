"""Random streams derived from the run's seed, one per purpose and month.

Every draw in the model comes from `Streams.draw(purpose, month)`: a fresh generator
seeded by `SeedSequence(root_entropy, spawn_key=(purpose, month))`. Hence

- the environment has its own stream, so two policies run with the same seed face the
  same world (common random numbers, paired comparisons);
- a draw in month t does not depend on how many numbers earlier months consumed, and
  firm i's uniform is element i whatever the population size, which keeps the pairing
  tight when a policy changes the number of firms.

Nothing uses the global `random` or `np.random` state.
"""

from __future__ import annotations

import numpy as np

from .errors import InputError

__all__ = ["PURPOSES", "Streams", "root_entropy"]

# Stable ids: appending a purpose is fine; renumbering one changes every result.
PURPOSES = {
    "population": 0,
    "environment": 1,
    "applications": 2,
    "productivity": 3,
    "lifecycle": 4,
    "revivability": 5,  # no longer drawn (revivability uses the lifecycle uniform); kept so ids stay stable
    "foreign": 6,  # exchange rate, destination demand, sanctions (part of the environment)
    "groups": 7,  # consortia: formation, joining, leaving, dissolution
    "supply_chain": 8,  # buyer-supplier links
    "macro": 9,  # inflation (part of the environment)
    "finance": 10,  # listing applications
    "policy": 11,  # levers: order of beneficiaries, clinics' outcomes, zones' places
    "rationing": 12,  # finance: the order in which grant applications arrive
    "groups_outside_sample": 13,  # consortia: members outside a sampled population (scale < 1)
    "finance_outside_sample": 14,  # sukuk pools: requests outside a sampled population (scale < 1)
    "grant_screening": 15,  # finance: which grant applicants the screening fails to tell from creditworthy ones
    "budget_commitment": 16,  # finance: whether a government budget commits to its marginal lumpy request
}


def root_entropy(rng) -> int:
    """The integer seed behind Mesa's `rng` argument (an int, a SeedSequence, a Generator or None)."""
    if rng is None:
        entropy = np.random.SeedSequence().entropy
        assert isinstance(entropy, int)  # drawn from the OS when no entropy is given: an int
        return int(entropy)
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        if rng < 0:
            raise InputError("rng", f"a seed must be a non-negative integer, got {rng}")
        return int(rng)
    if isinstance(rng, np.random.SeedSequence):
        return int(rng.generate_state(2, np.uint64).view(np.uint64)[0])
    if isinstance(rng, np.random.Generator):
        return int(rng.integers(2**63))
    raise InputError(
        "rng", f"must be an int seed, a numpy SeedSequence or Generator, or None; got {type(rng).__name__}"
    )


class Streams:
    def __init__(self, entropy: int):
        self.entropy = entropy

    def draw(self, purpose: str, month: int = 0, *sub: int) -> np.random.Generator:
        """The generator of a purpose in a month; `sub` keys split it further (e.g. one per lever)."""
        seq = np.random.SeedSequence(self.entropy, spawn_key=(PURPOSES[purpose], month, *sub))
        # SFC64: statistically sound and the fastest numpy bit generator for bulk draws here
        return np.random.Generator(np.random.SFC64(seq))
