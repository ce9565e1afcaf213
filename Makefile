# Two commands take a fresh machine to a running course or a green test suite:
#   make lab    set up .venv and start JupyterLab at the start page
#   make test   set up .venv and run the whole test suite
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install lab test test-fast lint format build check clean constraints

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

lab: install
	$(BIN)/mlops-course lab

# Two pytest workers; tests sharing an expensive fixture (a module's graded class, the
# Binder venv, the browser) stay in one worker (xdist groups, docs/testing.md).
ARTIFACTS := test-artifacts
PYTEST := $(BIN)/pytest -n 2

test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	status=0; $(PYTEST) --junitxml=$(ARTIFACTS)/junit.xml --durations=25 || status=$$?; \
	$(BIN)/python benchmarks/ci_cost.py $(ARTIFACTS)/junit.xml || true; \
	exit $$status

# The inner loop (under 3 minutes): units, build checks and one light module's graded class.
test-fast: install
	MLOPS_TEST_MODULES=04-kubernetes $(PYTEST) -m "not slow or classroom" \
		tests/unit tests/build tests/notebooks tests/workflow

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

build: install
	$(BIN)/mlops-course build

check: install
	$(BIN)/mlops-course build --check

clean:
	rm -rf $(VENV) gradebook.db submitted autograded feedback .pytest_cache

# Refresh the full pin set after changing pyproject.toml (then commit constraints.txt).
constraints: install
	{ echo "# Every package the course installs, pinned (pip freeze of a working .venv)."; \
	  echo "# Regenerate after changing pyproject.toml: make constraints"; \
	  $(BIN)/pip freeze --exclude-editable | grep -v "^jupytext=="; } > constraints.txt
