"""Every example in the README and the user guides works as written.

- ```python blocks run, from a fresh temporary directory (they must take seconds);
  ```python external blocks need a package the project does not depend on (SALib, EMA
  Workbench): they are compiled, not run;
- ```toml blocks whose first line is `# scenario`, `# sweep spec`, `# search spec` or `# cluster profile` are valid
  files of that kind;
- ```sh blocks: each `smesim ...` line parses with the real command line (commands and flags
  exist; nothing is run) and each `make ...` line names a target of the Makefile.
"""

import re
import shlex
from pathlib import Path

import pytest

from experiments.cli import parser
from experiments.inputs.scenario import parse_scenario
from experiments.inputs.sweep_spec import parse_sweep_spec
from experiments.search.spec import parse_search_spec
from experiments.sweeps.executors import load_profile

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("guide-*.md")), ROOT / "docs" / "file-formats.md"]
FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```", re.S | re.M)


def blocks(kind: str) -> list:
    found = []
    for path in DOCUMENTS:
        text = path.read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            if match.group(1).strip() == kind:
                line = text[: match.start()].count("\n") + 1
                found.append(pytest.param(match.group(2), id=f"{path.name}:{line}"))
    return found


@pytest.mark.parametrize("code", blocks("python"))
def test_python_example_runs(code, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "<example>", "exec"), {"__name__": "__example__"})


@pytest.mark.parametrize("code", blocks("python external"))
def test_external_python_example_compiles(code):
    compile(code, "<example>", "exec")


@pytest.mark.parametrize("text", blocks("toml"))
def test_toml_example_is_a_valid_file(text, tmp_path):
    first = text.splitlines()[0].strip()
    if first == "# scenario":
        parse_scenario(text, str(tmp_path / "example.toml"), "example")
    elif first == "# sweep spec":
        parse_sweep_spec(text, str(tmp_path / "example.toml"), "example")
    elif first == "# search spec":
        parse_search_spec(text, str(tmp_path / "example.toml"), "example")
    elif first == "# cluster profile":
        (tmp_path / "profile.toml").write_text(text, encoding="utf-8")
        load_profile("slurm", tmp_path / "profile.toml")
    else:
        pytest.fail(
            f"a ```toml block starts with '# scenario', '# sweep spec', '# search spec' or '# cluster profile' (else "
            f"```toml fragment), not {first!r}"
        )


def test_shell_examples_name_real_commands_flags_and_targets():
    targets = set(re.findall(r"^([a-z][a-z-]*):", (ROOT / "Makefile").read_text(encoding="utf-8"), re.M))
    smesim, checked = parser(), 0
    for param in blocks("sh"):
        for line in param.values[0].splitlines():
            words = shlex.split(re.sub(r"\$\(\([^)]*\)\)|\$\{?\w+\}?", "1", line), comments=True)  # $VAR: a value
            if not words:
                continue
            if words[0] == "make":
                assert set(words[1:]) <= targets, f"{param.id}: {line}: no such make target"
            elif words[0] == "smesim":
                try:
                    smesim.parse_args(words[1:])
                except SystemExit as stop:
                    pytest.fail(f"{param.id}: {line}: the command line refuses it (exit {stop.code})")
            checked += 1
    assert checked
