"""Sweep specs: many runs of the model described in one TOML file, validated before anything runs.

    description = "Workshop: the plan against single levers, over inflation"
    base = "baseline"      # shipped scenario name or path (relative to this file): levers, constants, shocks, goals
    seed = 1               # root seed, integer >= 0
    months = 48            # horizon, integer in [1, 600]
    scale = 0.2            # in (0, 1], default 1.0
    replications = 4       # integer in [1, 1000], default 1

    [design]
    kind = "factorial"     # "factorial" (default), "latin_hypercube", "sobol" or "morris"
    samples = 16           # not factorial: the (base) sample size; sobol: a power of two; morris: trajectories

    [policies.baseline]    # named policies, compared on the same seeds; default: one policy "base"
    [policies.plan]
    scenario = "ministry_plan"        # optional: start from that scenario's levers (else the base's)
    [policies.plan.levers.clinics]    # optional: lever settings over those
    budget_usd = 20e6

    [factors."uncertainties.inflation_rate"]   # what varies; keys as in experiments.inputs.keys
    values = [0.3, 0.4, 0.55]                  # factorial: the levels
    [factors."levers.clinics.budget_usd"]
    low = 0                                    # latin_hypercube / sobol: a range...
    high = 20e6
    distribution = "uniform"                   # ..."uniform" (default), "loguniform" (low > 0) or
                                               # "normal" (mean, sd; low/high optional: truncation)

    [goals.exports]        # changes or adds goals, as in scenario files
    at_least = 20e9

Factors are numeric lever settings (`levers.<lever>.<setting>`) or model parameters
(`uncertainties.<name>`, `constants.<name>` or a bare name), checked against their allowed
ranges. An integer setting or parameter (e.g. `levers.sukuk.provinces`) takes whole values:
in latin_hypercube and sobol designs uniformly among the integers in [low, high]. A factor's
lever setting may not be set differently from the base by a policy (the factor sets it in every
policy). Combinations of factor values that the model refuses (e.g. an idling_rate below the
young units' excess hazard) are not refused here: those runs are recorded as errors.

The first problem found is raised as one `InputFileError` naming the file, the dotted key
(e.g. ``factors."levers.clinics.budget_usd".low``) and what is allowed.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from experiments.errors import BadInput, InputFileError, from_file
from experiments.files import canonical_json, find_toml, is_file, parse_toml, read_toml_text, sha256_text
from experiments.inputs import checks
from experiments.inputs.goals import Goal, within_horizon
from experiments.inputs.keys import FlatKey, ModelInputs, check_run_settings, model_inputs, parse_key, plain_value
from experiments.inputs.scenario import Scenario, load_scenario, run_settings
from simulation.errors import InputError
from simulation.parameters import parameter_metadata
from simulation.policy import LEVERS, Policy

__all__ = [
    "Factor",
    "SweepSpec",
    "design_size",
    "factor_extremes",
    "load_sweep_spec",
    "parse_stored_spec",
    "parse_sweep_spec",
    "run_inputs",
    "shipped_sweeps",
    "sweep_spec_path",
]

SWEEP_DIR = Path(__file__).with_name("sweeps")
TOP_LEVEL_KEYS = (
    "description",
    "base",
    "seed",
    "months",
    "scale",
    "replications",
    "design",
    "policies",
    "factors",
    "goals",
)
REQUIRED_KEYS = ("description", "seed", "months")
DESIGNS = ("factorial", "latin_hypercube", "sobol", "morris")
DESIGN_KEYS = ("kind", "samples")
POLICY_KEYS = ("description", "scenario", "levers")
DISTRIBUTIONS = ("uniform", "loguniform", "normal")
FACTOR_KEYS = ("values", "low", "high", "distribution", "mean", "sd")
DEFAULT_BASE = "baseline"
DEFAULT_POLICY = "base"
MAX_SAMPLES = 2**20
MAX_RUNS = 10_000_000


# --- the validated spec ---------------------------------------------------------------------


@dataclass(frozen=True)
class Factor:
    """What varies: a flat key and either discrete `values` (factorial) or a distribution."""

    key: str
    values: tuple[float, ...] | None = None
    distribution: str = "uniform"
    low: float | None = None
    high: float | None = None
    mean: float | None = None
    sd: float | None = None
    integer: bool = False
    is_lever: bool = False  # a lever setting (not part of a run's seed: policies share their seeds)

    @property
    def flat(self) -> FlatKey:
        return parse_key(self.key)

    @property
    def levels(self) -> tuple[float, ...]:
        """The values of a factor of a factorial design (which has them)."""
        assert self.values is not None, f"{self.key} is not a factor of a factorial design"
        return self.values

    def bounds(self) -> tuple[float, float]:
        """low and high of a uniform (integer or not) or loguniform factor (which has them)."""
        assert self.low is not None and self.high is not None, f"{self.key} has no low and high"
        return self.low, self.high

    def to_dict(self) -> dict:
        spec = {"values": list(self.values)} if self.values is not None else {"distribution": self.distribution}
        for name in ("low", "high", "mean", "sd"):
            if getattr(self, name) is not None:
                spec[name] = getattr(self, name)
        return spec


@dataclass(frozen=True)
class SweepSpec:
    name: str
    file: str
    text: str
    sha256: str  # of the text
    description: str
    base: Scenario
    seed: int
    months: int
    scale: float
    replications: int
    design: str
    samples: int  # design points: the product of the levels (factorial), else [design] samples
    policies: dict[str, Policy]
    factors: tuple[Factor, ...]
    goals: dict[str, Goal]
    fingerprint: str = field(default="", compare=False)  # sha256 of the resolved content (see `resolved`)

    def resolved(self) -> dict:
        """Everything that decides the runs and their reading, as plain data: the base scenario
        (content and file hash), the policies' complete lever settings, factors, design, goals.
        Its hash (`fingerprint`) tells whether a results directory belongs to this spec;
        comments and layout of the files do not change it."""
        return {
            "description": self.description,
            "base": {"name": self.base.name, "sha256": self.base.sha256, "content": self.base.to_dict()},
            "seed": self.seed,
            "months": self.months,
            "scale": self.scale,
            "replications": self.replications,
            "design": {"kind": self.design, "samples": self.samples},
            "policies": {name: policy.to_dict() for name, policy in self.policies.items()},
            "factors": {f.key: f.to_dict() for f in self.factors},
            "goals": {name: goal.to_dict() for name, goal in self.goals.items()},
        }

    @property
    def runs_total(self) -> int:
        return design_size(self.design, self.samples, len(self.factors)) * len(self.policies) * self.replications


def design_size(kind: str, samples: int, factors: int) -> int:
    """Rows of the design: Sobol's Saltelli scheme has A, B and one AB_i block per factor, a Morris
    trajectory a start and one step per factor."""
    return samples * {"sobol": factors + 2, "morris": factors + 1}.get(kind, 1)


def parse_stored_spec(manifest: Mapping, source: str) -> SweepSpec:
    """The sweep spec parsed again from a sweep manifest's stored `spec_text` (replay and the
    report trust that text, not the manifest's resolved copy); an InputFileError naming
    `source` (the manifest) and `spec_text`."""
    for key in ("spec_text", "spec_name"):
        if not isinstance(manifest.get(key), str):
            raise InputFileError(source, key, "missing: the manifest holds no sweep specification")
    try:
        return parse_sweep_spec(manifest["spec_text"], manifest.get("spec_file") or source, manifest["spec_name"])
    except InputFileError as error:
        raise InputFileError(source, f"spec_text: {error.key}" if error.key else "spec_text", error.message) from None


# --- values ---------------------------------------------------------------------------------


def _scenario(key: str, source, spec_dir: Path) -> Scenario:
    """A scenario named by the spec: a path relative to the spec's folder, or a shipped name."""
    if not isinstance(source, str) or not source.strip():
        raise InputError(key, f"must be a shipped scenario's name or a scenario file's path, got {source!r}")
    local = spec_dir / source
    try:
        return load_scenario(local if is_file(local) else source)
    except BadInput as error:
        raise InputError(key, str(error)) from None


# --- design ---------------------------------------------------------------------------------


def _design(table, factors: Mapping) -> tuple[str, int | None]:
    table = checks.table("design", table, 'design settings, e.g. kind = "factorial"')
    checks.unknown_keys("design", table, DESIGN_KEYS, "design setting")
    kind = table.get("kind", "factorial")
    if kind not in DESIGNS:
        raise InputError("design.kind", f"must be one of {list(DESIGNS)}, got {kind!r}")
    if kind == "factorial":
        if "samples" in table:
            raise InputError(
                "design.samples",
                "a factorial design runs every combination of the factors' values; "
                "samples is for latin_hypercube and sobol",
            )
        return kind, None
    if not factors:
        raise InputError("design.kind", f'a {kind} design needs at least one [factors."<key>"] with low and high')
    if "samples" not in table:
        raise InputError("design.samples", f"missing: the number of {kind} samples")
    samples = checks.whole("design.samples", table["samples"], 1, MAX_SAMPLES)
    if kind == "sobol" and (samples < 2 or samples & (samples - 1)):
        raise InputError("design.samples", f"a sobol design needs a power of two >= 2 (e.g. 16, 32, 64), got {samples}")
    if kind == "morris" and samples < 2:
        raise InputError(
            "design.samples", f"a morris design needs at least 2 trajectories (10 to 50 is usual), got {samples}"
        )
    return kind, samples


# --- factors --------------------------------------------------------------------------------


def _factor_range(flat: FlatKey) -> tuple[float | None, float | None, bool, str]:
    """Allowed (lo, hi), whether whole numbers only, and the unit, of a numeric lever setting or parameter."""
    if flat.is_lever:
        assert flat.lever is not None and flat.setting is not None  # parse_key sets both for a lever key
        setting = LEVERS[flat.lever][flat.setting]
        if setting.kind not in ("number", "integer"):
            raise InputError(
                flat.key,
                f"only numeric settings can be factors; {flat.setting} is a "
                f"{'choice' if setting.kind == 'choice' else 'list of names'}: set it in a policy",
            )
        return (*setting.allowed, setting.kind == "integer", setting.unit)
    assert flat.parameter is not None  # not a lever key: a parameter's
    meta = parameter_metadata()[flat.parameter]
    return (*meta["allowed"], isinstance(meta["default"], int), meta["unit"])


def _factor(key: str, spec, design: str) -> Factor:
    prefix = f'factors."{key}"'
    try:
        flat = parse_key(key)
    except InputError as error:
        raise InputError(prefix, error.message) from None
    spec = checks.table(prefix, spec, "factor settings (values, or low and high)")
    checks.unknown_keys(prefix, spec, FACTOR_KEYS, "factor setting")
    try:
        lo, hi, integer, unit = _factor_range(flat)
    except InputError as error:
        raise InputError(prefix, error.message) from None
    if design == "factorial":
        return _discrete_factor(key, prefix, spec, (lo, hi, integer, unit))
    return _continuous_factor(key, prefix, spec, design, (lo, hi, integer, unit))


def _discrete_factor(key: str, prefix: str, spec: Mapping, allowed: tuple) -> Factor:
    extra = [k for k in spec if k != "values"]
    if extra:
        raise InputError(
            f"{prefix}.{extra[0]}",
            "a factorial design takes discrete values = [...]; "
            "low, high and distributions are for latin_hypercube and sobol",
        )
    values = spec.get("values")
    if not isinstance(values, list) or not values:
        raise InputError(
            f"{prefix}.values", f"missing or empty: a factorial factor needs values = [a, b, ...], got {values!r}"
        )
    lo, hi, integer, unit = allowed
    checked = tuple(
        checks.number(f"{prefix}.values[{i}]", checks.finite(f"{prefix}.values[{i}]", v), lo, hi, unit, integer=integer)
        for i, v in enumerate(values)
    )
    if len(set(checked)) != len(checked):
        raise InputError(f"{prefix}.values", f"lists a value twice: {values}")
    return Factor(key, values=checked, integer=allowed[2], is_lever=key.startswith("levers."))


def _continuous_factor(key: str, prefix: str, spec: Mapping, design: str, allowed: tuple) -> Factor:
    if "values" in spec:
        raise InputError(
            f"{prefix}.values",
            f"a {design} design samples a range: give low and high (values = [...] is for factorial designs)",
        )
    kind = spec.get("distribution", "uniform")
    if kind not in DISTRIBUTIONS:
        raise InputError(f"{prefix}.distribution", f"must be one of {list(DISTRIBUTIONS)}, got {kind!r}")
    lo, hi, integer, unit = allowed
    if integer and kind != "uniform":
        raise InputError(
            f"{prefix}.distribution", f'{key} takes whole numbers: only "uniform" (over the integers in [low, high])'
        )
    given = {
        name: checks.finite(f"{prefix}.{name}", spec[name]) for name in ("low", "high", "mean", "sd") if name in spec
    }
    needed = ("mean", "sd") if kind == "normal" else ("low", "high")
    for name in needed:
        if name not in given:
            raise InputError(f"{prefix}.{name}", f"missing: a {kind} factor needs {' and '.join(needed)}")
    if kind != "normal":
        for name in ("mean", "sd"):
            if name in given:
                raise InputError(
                    f"{prefix}.{name}", f'only for distribution = "normal"; a {kind} factor has low and high'
                )
    bounds = {
        name: checks.number(f"{prefix}.{name}", given[name], lo, hi, unit, integer=integer)
        for name in ("low", "high")
        if name in given
    }
    if "low" in bounds and "high" in bounds and bounds["low"] >= bounds["high"]:
        raise InputError(f"{prefix}.high", f"must be above low ({bounds['low']!r}), got {bounds['high']!r}")
    if kind == "loguniform" and bounds["low"] <= 0:
        raise InputError(f"{prefix}.low", f"a loguniform factor needs low > 0, got {bounds['low']!r}")
    if kind == "normal":
        if given["sd"] <= 0:
            raise InputError(f"{prefix}.sd", f"must be > 0, got {given['sd']!r}")
        bounds = {"low": bounds.get("low", lo), "high": bounds.get("high", hi)}  # truncated to the allowed range
    return Factor(
        key,
        distribution=kind,
        low=bounds.get("low"),
        high=bounds.get("high"),
        mean=given.get("mean"),
        sd=given.get("sd"),
        integer=integer,
        is_lever=key.startswith("levers."),
    )


def _factors(table, design: str) -> tuple[Factor, ...]:
    table = checks.table("factors", table, 'factors, one [factors."<key>"] each')
    factors = tuple(_factor(key, spec, design) for key, spec in table.items())
    seen: dict[str, str] = {}
    for factor in factors:
        target = factor.flat.parameter or factor.key
        if target in seen:
            raise InputError(
                f'factors."{factor.key}"', f'varies the same parameter as factors."{seen[target]}"; give it once'
            )
        seen[target] = factor.key
    return factors


def factor_extremes(factor: Factor) -> tuple[float, ...]:
    """The values a factor can take at its ends (what the lever checks need)."""
    if factor.values is not None:
        return factor.values
    return tuple(v for v in (factor.low, factor.high) if v is not None and math.isfinite(v))


# --- policies -------------------------------------------------------------------------------


def _policy(name: str, spec, base: Scenario, spec_dir: Path) -> tuple[Policy, Mapping]:
    """A policy's lever settings (complete) and the settings its file gives explicitly."""
    prefix = f"policies.{name}"
    checks.name(prefix, name, "a policy's name")
    spec = checks.table(prefix, spec, "policy settings (scenario, levers)")
    checks.unknown_keys(prefix, spec, POLICY_KEYS, "policy setting")
    if "description" in spec:
        checks.one_line(f"{prefix}.description", spec["description"], "saying what the policy is")
    start = _scenario(f"{prefix}.scenario", spec["scenario"], spec_dir) if "scenario" in spec else base
    explicit = checks.table(f"{prefix}.levers", spec.get("levers", {}), "levers, e.g. [policies.<name>.levers.clinics]")
    levers = start.policy.to_dict()
    for lever, settings in explicit.items():
        settings = checks.table(f"{prefix}.levers.{lever}", settings, "lever settings")
        levers[lever] = {**levers.get(lever, {}), **settings}
    try:
        return Policy.from_dict(levers), explicit
    except InputError as error:
        raise error.under(f"{prefix}.levers") from None


def _policies(table, base: Scenario, spec_dir: Path) -> tuple[dict[str, Policy], dict[str, Mapping]]:
    if table is None:
        return {DEFAULT_POLICY: base.policy}, {DEFAULT_POLICY: {}}
    table = checks.table("policies", table, "policies, one [policies.<name>] each")
    if not table:
        raise InputError(
            "policies",
            "is empty: name at least one [policies.<name>], or leave [policies] out for one policy, the base's",
        )
    policies, explicit = {}, {}
    for name, spec in table.items():
        policies[name], explicit[name] = _policy(name, spec, base, spec_dir)
        twin = next((other for other, policy in policies.items() if other != name and policy == policies[name]), None)
        if twin is not None:
            raise InputError(
                f"policies.{name}",
                f"has the same lever settings as policies.{twin}; "
                "each policy must differ (else their runs would be the same)",
            )
    return policies, explicit


def _check_factors_against_policies(
    factors, policies: dict[str, Policy], explicit: Mapping[str, Mapping], base: Scenario
) -> None:
    """A factor sets its lever setting in every policy: a policy may not set it differently
    from the base; and every policy must accept the factor's extreme values."""
    for factor in factors:
        flat = factor.flat
        if not flat.is_lever:
            continue
        for name, policy in policies.items():
            key = f"policies.{name}.levers.{flat.lever}.{flat.setting}"
            fixed = flat.setting in explicit[name].get(flat.lever, {})
            if fixed or policy[flat.lever][flat.setting] != base.policy[flat.lever][flat.setting]:
                raise InputError(
                    key, f'is also a factor (factors."{factor.key}"), which sets it in every policy; remove one of them'
                )
            for value in factor_extremes(factor):
                levers = policy.to_dict()
                levers[flat.lever][flat.setting] = value
                try:
                    Policy.from_dict(levers)
                except InputError as error:
                    raise InputError(
                        f'factors."{factor.key}"',
                        f"with policies.{name} at {value!r}: levers.{error.key}: {error.message}",
                    ) from None


# --- goals ----------------------------------------------------------------------------------


# --- the whole file -------------------------------------------------------------------------


def parse_sweep_spec(text: str, file: str, name: str) -> SweepSpec:
    """Validate a sweep spec's TOML text; InputFileError naming `file` on the first problem."""
    data = parse_toml(text, file)
    try:
        content = _content(data, Path(file).parent)
    except InputError as error:
        raise from_file(file, error) from None
    spec = SweepSpec(name=name, file=file, text=text, sha256=sha256_text(text), **content)
    return dataclasses.replace(spec, fingerprint=sha256_text(canonical_json(spec.resolved())))


def _content(data: dict, spec_dir: Path) -> dict:
    checks.unknown_keys("", data, TOP_LEVEL_KEYS, "top-level key")
    for key in REQUIRED_KEYS:
        if key not in data:
            raise InputError(key, f"missing; a sweep spec needs {', '.join(REQUIRED_KEYS)}")
    settings = run_settings(data)
    base = _scenario("base", data.get("base", DEFAULT_BASE), spec_dir)
    check_run_settings(settings["seed"], settings["months"], settings["scale"], base)
    factor_table = checks.table("factors", data.get("factors", {}), 'factors, one [factors."<key>"] each')
    design, samples = _design(data.get("design", {}), factor_table)
    factors = _factors(factor_table, design)
    policies, explicit = _policies(data.get("policies"), base, spec_dir)
    _check_factors_against_policies(factors, policies, explicit, base)
    if design == "factorial":
        samples = math.prod(len(f.levels) for f in factors)
    assert samples is not None  # _design gives the samples of the other designs
    runs = design_size(design, samples, len(factors)) * len(policies) * settings["replications"]
    if runs > MAX_RUNS:
        raise InputError(
            "replications",
            f"the sweep would make {runs:,} runs; at most {MAX_RUNS:,}: "
            "fewer samples, levels, policies or replications",
        )
    _check_model_accepts(base, next(iter(policies.values())), settings["scale"])
    return dict(
        **settings,
        base=base,
        design=design,
        samples=samples,
        policies=policies,
        factors=factors,
        goals=within_horizon(data.get("goals", {}), base.goals, settings["months"], "the sweep's", "the base's goals"),
    )


def _check_model_accepts(base: Scenario, policy: Policy, scale: float) -> None:
    """Build one model of the base: a scale too small for the model, or a base it refuses, is
    bad input for the whole sweep (not an error in every run)."""
    inputs = ModelInputs(policy, {**base.uncertainties, **base.constants}, base.shocks)
    try:
        inputs.build(0, scale)
    except InputError as error:
        raise InputError("scale" if error.key == "scale" else "base", f"the model refused it: {error}") from None


# --- finding spec files ---------------------------------------------------------------------


def shipped_sweeps() -> dict[str, Path]:
    """The sweep specs shipped in experiments/inputs/sweeps/, by name."""
    return {path.stem: path for path in sorted(SWEEP_DIR.glob("*.toml"))}


def sweep_spec_path(source: str | Path) -> Path:
    """A spec file: `source` itself if it is a file, else the shipped spec of that name."""
    return find_toml(source, shipped_sweeps(), "sweep spec")


def load_sweep_spec(source: str | Path) -> SweepSpec:
    """Read and validate a sweep spec (a path, or the name of a shipped spec)."""
    path = sweep_spec_path(source)
    text = read_toml_text(path)
    return parse_sweep_spec(text, str(path), path.stem)


def run_inputs(spec: SweepSpec, policy: str, factor_values: Mapping[str, float]) -> ModelInputs:
    """The model inputs of one run: the policy's levers, then the factors' values, over the base."""
    flat = {
        f"levers.{lever}.{name}": value
        for lever, settings in spec.policies[policy].to_dict().items()
        for name, value in settings.items()
    }
    flat.update({key: plain_value(parse_key(key), value) for key, value in factor_values.items()})
    return model_inputs(flat, spec.base)
