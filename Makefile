# Two commands for a fresh machine: `make demo` and `make test` (see README.md).
# The model needs Python >= 3.12 (Mesa 3.5). We look for one ourselves: $(PYTHON) if set,
# then python3.13 / python3.12 / python3 on PATH, then every pyenv-installed version.

VENV := .venv
VPY := $(VENV)/bin/python
PYENV_ROOT ?= $(shell pyenv root 2>/dev/null || echo $(HOME)/.pyenv)
CANDIDATES := $(PYTHON) python3.13 python3.12 python3 \
	$(sort $(wildcard $(PYENV_ROOT)/versions/3.1[2-9]*/bin/python3)) \
	$(wildcard /usr/bin/python3.1[2-9] /usr/local/bin/python3.1[2-9])

# The first candidate that really runs (pyenv shims exist for versions that are not active) and is >= 3.12.
FOUND_PYTHON = $(firstword $(foreach c,$(CANDIDATES),$(shell $(c) -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1 && echo $(c))))

.PHONY: demo test test-fast test-faults lint bench bench-sweep bench-dashboard validate clean

$(VENV)/.installed: pyproject.toml
	@py="$(FOUND_PYTHON)"; \
	if [ -z "$$py" ]; then \
		echo "error: no Python >= 3.12 found (tried: $(strip $(CANDIDATES)))." >&2; \
		echo "Install one (e.g. 'pyenv install 3.12') or run 'make PYTHON=/path/to/python3.12 ...'." >&2; \
		exit 1; \
	fi; \
	echo "Using $$py ($$($$py --version))"; \
	[ -x $(VPY) ] || $$py -m venv $(VENV)
	$(VPY) -m pip install --quiet --upgrade pip
	$(VPY) -m pip install --quiet -e '.[test,lint]'
	@touch $@

demo: $(VENV)/.installed
	$(VENV)/bin/smesim demo --out results/demo

test: $(VENV)/.installed
	$(VPY) -m pytest -q -m "not faults"

# the fault-injection trials of the sweep machinery (real processes, Dask workers, file systems; ~5 minutes)
test-faults: $(VENV)/.installed
	$(VPY) -m pytest -q -m faults

# the inner loop: everything but the slow, integration and browser tests (under a minute)
test-fast: $(VENV)/.installed
	$(VPY) -m pytest -q -m "not slow and not integration and not browser and not faults"

# ruff (lint and format), mypy, and the layout's rules (tests/test_architecture.py)
lint: $(VENV)/.installed
	$(VENV)/bin/ruff check simulation experiments tests
	$(VENV)/bin/ruff format --check simulation experiments tests
	$(VENV)/bin/mypy
	$(VPY) -m pytest -q -p no:cacheprovider tests/test_architecture.py

bench: $(VENV)/.installed
	$(VPY) tests/benchmarks/bench_model.py

bench-sweep: $(VENV)/.installed
	$(VPY) tests/benchmarks/bench_sweep.py

bench-dashboard: $(VENV)/.installed
	$(VPY) tests/benchmarks/bench_dashboard.py

# the stylised facts, then the scale check: the plan's effects at small scales against full scale,
# then each lever's paired effects and costs beside the published evidence (smesim validate --levers)
validate: $(VENV)/.installed
	$(VENV)/bin/smesim validate --out results/validation
	$(VENV)/bin/smesim validate --scale-check --policies ministry_plan --out results/validation
	$(VENV)/bin/smesim validate --levers --scale 0.1 --seeds 6 --out results/validation

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
