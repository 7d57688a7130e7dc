"""The shipped scenario files, sweep specs and goals, mutated in many ways (hypothesis), load
through the command line's loaders either as valid input or as one BadInput: never another
exception, a hang or an over-long message. And a file's recorded sha256 is its bytes' hash,
whatever its line endings."""

import hashlib
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from experiments.errors import BadInput
from experiments.inputs.goals import DEFAULT_GOALS_FILE, load_goals
from experiments.inputs.scenario import load_scenario, shipped_scenarios
from experiments.inputs.sweep_spec import load_sweep_spec, shipped_sweeps

SCENARIOS = {name: path.read_bytes() for name, path in shipped_scenarios().items()}
SWEEPS = {name: path.read_bytes() for name, path in shipped_sweeps().items()}
MAX_SECONDS = 10.0  # one load, on a busy machine (a model of the base is built for a sweep spec)
MAX_LINE = 1_100  # characters of the one error line, "smesim: error: " included

# values put in place of a key's value: other types, huge, tiny, negative, not numbers,
# long and control-character strings, deep nesting, dates
VALUES = (
    '"text"',
    '""',
    "true",
    "0",
    "-1",
    "1.5",
    "-0.0",
    "1e300",
    "-1e300",
    "1e-300",
    "nan",
    "inf",
    "-inf",
    "9223372036854775807",
    "-9223372036854775808",
    "99999999999999999999999999999",
    "[]",
    "{}",
    '[1, "a"]',
    "[[[[[[1]]]]]]",
    "{ a = { b = { c = 1 } } }",
    "1979-05-27T07:32:00Z",
    "07:32:00",
    '"' + "y" * 200_000 + '"',
    '"\\u001b[31mred"',
    '"a\\u0000b"',
    '"tab\\there"',
    '"line\\nbreak"',
    '"c1 \\u0085 char"',
    "'''multi\nline'''",
    "[" * 3_000 + "]" * 3_000,
    "[" * 100_000 + "]" * 100_000,
)
INSERTED = (
    "zzz = 1",
    "[zzz]",
    "[[zzz]]",
    '"\\u001b]0;title\\u0007" = 1',
    "description = 'twice'",
    "[levers.nonexistent]",
    "[constants]\ninitial_exporters = 10000000",
    "[constants]\ninitial_under_construction = 1000000000000",
    "[constants]\nparks = 99999999999999999999",
    '[[shocks]]\nkind = "sanctions"\nmonth = 2\ndestination = "Iraq"\nmonths = 1e300',
    '[[shocks]]\nkind = "sanctions"\nmonth = 9223372036854775807\ndestination = "Iraq"\nmonths = 3',
    '[[shocks]]\nkind = "exchange_rate"\nmonth = 1.5\ndepreciation = 0.5',
    "[goals.x]\nindicator = 'exports_usd'\nat_least = 1e400",
    "[goals.exports]\nmonth = 99999999999999999999",
    '[policies."bad\\u001bname"]',
    "[design]\nkind = 'sobol'\nsamples = 9223372036854775807",
    "a = " + "{ b = " * 2_000 + "1" + " }" * 2_000,
)
BYTES = (b"\xff", b"\xfe\xff", b"\x00", b"\xef\xbb\xbf", b"\r", b"\x1b[2J", b"\xc3\x28", b"\xe2\x80\xae")


def _value_lines(text: str) -> list[int]:
    return [i for i, line in enumerate(text.split("\n")) if "=" in line and not line.lstrip().startswith("#")]


@st.composite
def mutated(draw, files: dict[str, bytes]) -> tuple[str, bytes]:
    """(name, bytes) of a shipped file changed in one or two ways."""
    name = draw(st.sampled_from(sorted(files)))
    data = files[name]
    for _ in range(draw(st.integers(1, 2))):
        data = draw(st.sampled_from(MUTATIONS))(draw, data)
    return name, data


def _lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


def _delete_line(draw, data: bytes) -> bytes:
    lines = _lines(data)
    del lines[draw(st.integers(0, len(lines) - 1))]
    return b"\n".join(lines)


def _change_value(draw, data: bytes) -> bytes:
    text = data.decode("utf-8", "replace")
    candidates = _value_lines(text)
    if not candidates:
        return data
    lines = text.split("\n")
    i = draw(st.sampled_from(candidates))
    key = lines[i].split("=", 1)[0]
    lines[i] = f"{key}= {draw(st.sampled_from(VALUES))}"
    return "\n".join(lines).encode("utf-8")


def _insert_line(draw, data: bytes) -> bytes:
    lines = _lines(data)
    at = draw(st.integers(0, len(lines)))
    lines.insert(at, draw(st.sampled_from(INSERTED)).encode("utf-8"))
    return b"\n".join(lines)


def _insert_bytes(draw, data: bytes) -> bytes:
    at = draw(st.integers(0, len(data)))
    return data[:at] + draw(st.sampled_from(BYTES)) + data[at:]


def _truncate(draw, data: bytes) -> bytes:
    return data[: draw(st.integers(0, len(data)))]


def _crlf(draw, data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def _random_line(draw, data: bytes) -> bytes:
    lines = _lines(data)
    text = draw(st.text(st.characters(codec="utf-8"), max_size=40))
    lines.insert(draw(st.integers(0, len(lines))), text.encode("utf-8"))
    return b"\n".join(lines)


MUTATIONS = (_delete_line, _change_value, _change_value, _insert_line, _insert_bytes, _truncate, _crlf, _random_line)


def _load_checked(load, tmp: Path, name: str, data: bytes):
    """Load the file through `load`: a result, or None after checking the BadInput's line."""
    path = tmp / f"{name}.toml"
    path.write_bytes(data)
    started = time.perf_counter()
    try:
        loaded = load(path)
    except BadInput as error:
        line = f"smesim: error: {error}"
        assert "\n" not in line and "\x1b" not in line and len(line) <= MAX_LINE, line[:2000]
        loaded = None
    assert time.perf_counter() - started < MAX_SECONDS
    return loaded


def _check_hash(loaded, data: bytes) -> None:
    if loaded is not None:
        assert loaded.sha256 == hashlib.sha256(data).hexdigest()
        assert "\x1b" not in loaded.description and "\x00" not in loaded.description


@settings(max_examples=320, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=mutated(SCENARIOS))
def test_a_mutated_scenario_loads_or_is_one_bad_input(case, tmp_path_factory):
    name, data = case
    loaded = _load_checked(load_scenario, tmp_path_factory.mktemp("scenario"), name, data)
    _check_hash(loaded, data)
    if loaded is not None:  # and the command line's settings on top, as `smesim run FILE --scale 0.05`
        assert loaded.with_overrides(scale=0.05, replications=2).scale == 0.05


@settings(max_examples=210, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=mutated(SWEEPS))
def test_a_mutated_sweep_spec_loads_or_is_one_bad_input(case, tmp_path_factory):
    name, data = case
    _check_hash(_load_checked(load_sweep_spec, tmp_path_factory.mktemp("sweep"), name, data), data)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=mutated({"goals": DEFAULT_GOALS_FILE.read_bytes()}))
def test_a_mutated_goals_file_loads_or_is_one_bad_input(case, tmp_path_factory):
    _load_checked(load_goals, tmp_path_factory.mktemp("goals"), *case)


# --- line endings ---------------------------------------------------------------------------


def _crlf_copy(data: bytes, tmp_path: Path, name: str) -> tuple[Path, bytes]:
    crlf = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    path = tmp_path / f"{name}.toml"
    path.write_bytes(crlf)
    return path, crlf


@pytest.mark.parametrize("name", ["baseline", "sanctions_tightening", "ministry_plan"])
def test_a_crlf_scenario_records_the_hash_of_its_bytes(name, tmp_path):
    path, crlf = _crlf_copy(SCENARIOS[name], tmp_path, name)
    scenario = load_scenario(path)
    assert scenario.sha256 == hashlib.sha256(crlf).hexdigest()
    assert scenario.text.encode("utf-8") == crlf
    assert scenario.to_dict() == load_scenario(name).to_dict()


def test_a_crlf_sweep_spec_records_the_hash_of_its_bytes(tmp_path):
    path, crlf = _crlf_copy(SWEEPS["quick"], tmp_path, "quick")
    spec = load_sweep_spec(path)
    assert spec.sha256 == hashlib.sha256(crlf).hexdigest()
    assert spec.fingerprint == load_sweep_spec("quick").fingerprint  # the same runs


def test_a_crlf_goals_file_gives_the_same_goals(tmp_path):
    path, _ = _crlf_copy(DEFAULT_GOALS_FILE.read_bytes(), tmp_path, "goals")
    assert load_goals(path) == load_goals()
