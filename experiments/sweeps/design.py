"""The runs of a sweep: design points, run ids and seeds.

Design points (factor values), drawn from the root seed's own stream (`scipy.stats.qmc`):
- factorial: every combination of the factors' values, the first factor varying slowest;
  `design_block` "", `sample` the combination's index;
- latin_hypercube: `samples` points of a Latin hypercube on the unit cube, mapped through
  each factor's distribution; `design_block` "";
- sobol: Saltelli's scheme. A scrambled Sobol' sequence of `samples` points in 2d dimensions
  (d factors) gives A (first d columns) and B (last d); block "AB:<i>" is A with column i
  (0-based, in the spec's factor order) taken from B. `sample` j is the row in its block, so
  f(A)[j], f(B)[j] and f(AB:i)[j] line up as `scipy.stats.sobol_indices` wants them
  (`func={"f_A": ..., "f_B": ..., "f_AB": ...}`); N (d + 2) points in all;
- morris: `samples` trajectories of Morris's elementary effects (one at a time), d + 1 points
  each, on 4 levels of the unit interval at the quarters' midpoints (1/8, 3/8, 5/8, 7/8, so that
  unbounded distributions have finite values) with steps of 1/2: a trajectory starts at
  random levels, then moves each factor once, in a random order, up from the lower two
  levels and down from the upper two. Block "M0" is the start, "M<k>:<i>" the point after
  its k-th step, which moved factor i; `sample` is the trajectory.

Canonical run order: design points in order, then policies in the spec's order, then
replicates. A run's

- `run_id` is the first 16 hex digits of the sha256 of the canonical JSON (sorted keys, exact
  floats) of its complete inputs: the root seed, the base scenario's model inputs (levers,
  parameters, shocks: their canonical JSON's sha256), the policy's complete lever settings
  (likewise), the factor values, the replicate, months and scale;
- seed is `numpy.random.SeedSequence(entropy)`, where `entropy` is the first 128 bits (an
  integer) of the sha256 of the canonical JSON of {root seed, the run's world, replicate}.
  The world is the values of the factors that are not lever settings (factorial and Latin
  hypercube designs), and for a Sobol design its sample, {"sobol_sample": j}: A_j, B_j and
  every AB:i_j share one seed, so that the estimators' differences f(A) - f(AB:i) compare the
  factor's values on common random numbers instead of measuring seed noise (a factor that
  changes nothing gets an index of exactly 0). Likewise every point of a Morris trajectory
  t shares the seed of {"morris_trajectory": t}. The seed does not depend on the policy nor on
  lever factors: policies are compared on common random numbers (paired runs). Stored as
  decimal text in the `seed` column: `run_model(..., seed=SeedSequence(int(seed)))` replays a
  run.

Neither depends on the order, chunking, worker, retry or shard a run happens to get.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from experiments.files import canonical_json, sha256_text
from experiments.inputs.sweep_spec import Factor, SweepSpec

__all__ = [
    "MORRIS_LEVELS",
    "MORRIS_STEP",
    "DesignPoint",
    "Run",
    "RunPlan",
    "design_points",
    "factor_values",
    "seed_entropy",
]

DESIGN_STREAM = 0x5EED_DE51  # spawn key of the design's draws (apart from every run's seed)
RUN_ID_HEX = 16
SHARED_SEED = {"sobol": "sobol_sample", "morris": "morris_trajectory"}  # designs whose sample's rows share a seed


@dataclass(frozen=True)
class DesignPoint:
    sample: int
    block: str  # "" (factorial, latin_hypercube), "A", "B" or "AB:<i>" (sobol)
    values: dict[str, float | int]  # factor key -> value


@dataclass(frozen=True)
class Run:
    index: int  # in the canonical run order
    run_id: str
    policy: str
    sample: int
    design_block: str
    replicate: int
    factors: dict[str, float | int]
    entropy: int  # the seed's entropy (128 bits)

    @property
    def seed(self) -> np.random.SeedSequence:
        return np.random.SeedSequence(self.entropy)


# --- design points --------------------------------------------------------------------------


def design_points(spec: SweepSpec) -> list[DesignPoint]:
    from scipy.stats import qmc  # here: workers import this module for Run only, and scipy.stats is slow to import

    factors = spec.factors
    if spec.design == "factorial":
        combos = itertools.product(*(f.levels for f in factors))
        return [
            DesignPoint(i, "", dict(zip((f.key for f in factors), combo, strict=True)))
            for i, combo in enumerate(combos)
        ]
    rng = np.random.default_rng(np.random.SeedSequence(spec.seed, spawn_key=(DESIGN_STREAM,)))
    if spec.design == "latin_hypercube":
        return _points(factors, qmc.LatinHypercube(d=len(factors), rng=rng).random(spec.samples), "")
    if spec.design == "morris":
        return _morris_points(factors, spec.samples, rng)
    unit = qmc.Sobol(d=2 * len(factors), scramble=True, rng=rng).random(spec.samples)
    a, b = unit[:, : len(factors)], unit[:, len(factors) :]
    points = _points(factors, a, "A") + _points(factors, b, "B")
    for i in range(len(factors)):
        ab = a.copy()
        ab[:, i] = b[:, i]
        points += _points(factors, ab, f"AB:{i}")
    return points


MORRIS_LEVELS = np.array([1, 3, 5, 7]) / 8  # the quarters' midpoints of the unit interval
MORRIS_STEP = 0.5  # two levels: from a lower level up, from an upper one down


def _morris_points(factors: tuple[Factor, ...], trajectories: int, rng: np.random.Generator) -> list[DesignPoint]:
    d, points = len(factors), []
    for t in range(trajectories):
        unit = MORRIS_LEVELS[rng.integers(0, len(MORRIS_LEVELS), d)]
        direction = np.where(unit < 0.5, 1.0, -1.0)
        path, blocks = [unit.copy()], ["M0"]
        for k, i in enumerate(rng.permutation(d), 1):
            unit[i] += direction[i] * MORRIS_STEP
            path.append(unit.copy())
            blocks.append(f"M{k}:{i}")
        for point, block in zip(_points(factors, np.array(path), ""), blocks, strict=True):
            points.append(DesignPoint(t, block, point.values))
    return points


def _points(factors: tuple[Factor, ...], unit: np.ndarray, block: str) -> list[DesignPoint]:
    columns = [factor_values(f, unit[:, i]) for i, f in enumerate(factors)]
    return [DesignPoint(j, block, {f.key: columns[i][j] for i, f in enumerate(factors)}) for j in range(len(unit))]


def factor_values(factor: Factor, u: np.ndarray) -> list[float | int]:
    """Points of the unit interval mapped to the factor's values (plain Python numbers)."""
    if factor.integer:  # uniform over the integers in [low, high]
        lo, hi = factor.bounds()
        return [int(v) for v in np.minimum(np.floor(lo + u * (hi - lo + 1)), hi)]
    if factor.distribution == "uniform":
        lo, hi = factor.bounds()
        values = lo + u * (hi - lo)
    elif factor.distribution == "loguniform":
        lo, hi = factor.bounds()
        values = np.exp(np.log(lo) + u * (np.log(hi) - np.log(lo)))
    else:  # normal, truncated to [low, high] (the allowed range when not given)
        from scipy import stats

        low, high, mean, sd = factor.low, factor.high, factor.mean, factor.sd
        assert mean is not None and sd is not None, f"{factor.key}: a normal factor has a mean and an sd"
        a = -np.inf if low is None else (low - mean) / sd
        b = np.inf if high is None else (high - mean) / sd
        values = stats.truncnorm.ppf(u, a, b, loc=mean, scale=sd)
    return [float(v) for v in values]


# --- runs -----------------------------------------------------------------------------------


class RunPlan:
    """Every run of a spec in canonical order, with ids and seeds."""

    def __init__(self, spec: SweepSpec):
        self.spec = spec

    @cached_property
    def runs(self) -> list[Run]:
        spec = self.spec
        base = _digest(
            {k: v for k, v in spec.base.to_dict().items() if k in ("levers", "uncertainties", "constants", "shocks")}
        )
        policies = {name: _digest(policy.to_dict()) for name, policy in spec.policies.items()}
        world_keys = [f.key for f in spec.factors if not f.is_lever]
        runs: list[Run] = []
        for point in design_points(spec):
            world = (
                {SHARED_SEED[spec.design]: point.sample}
                if spec.design in SHARED_SEED
                else {key: point.values[key] for key in world_keys}
            )
            for name in spec.policies:
                for replicate in range(spec.replications):
                    inputs = {
                        "root_seed": spec.seed,
                        "base": base,
                        "policy": policies[name],
                        "factors": point.values,
                        "replicate": replicate,
                        "months": spec.months,
                        "scale": spec.scale,
                    }
                    runs.append(
                        Run(
                            len(runs),
                            sha256_text(canonical_json(inputs))[:RUN_ID_HEX],
                            name,
                            point.sample,
                            point.block,
                            replicate,
                            point.values,
                            seed_entropy(spec.seed, world, replicate),
                        )
                    )
        return runs

    def shard(self, index: int, count: int) -> list[Run]:
        """Shard `index` of `count` (1-based): the runs whose canonical index is index - 1 mod count."""
        return [run for run in self.runs if run.index % count == index - 1]


def seed_entropy(root_seed: int, world: dict, replicate: int) -> int:
    """128 bits from the root seed, the run's world (module docstring) and the replicate."""
    text = canonical_json({"root_seed": root_seed, "world": world, "replicate": replicate})
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:16], "big")


def _digest(data) -> str:
    return sha256_text(canonical_json(data))
