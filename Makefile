# yibao: the two commands of the README (`make run`, `make test`) do all the set-up on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint types bench clean install

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/python -m compileall -q yibao  # bytecode for the editable package: the commands start faster
	touch $(STAMP)

install: $(STAMP)

# The demo's data lives in the 2023 collection period: the demo server's clock starts there (YIBAO_CLOCK).
DEMO_CLOCK ?= 2022-11-15T10:00:00+08:00

## run: create the venv, install, migrate the SQLite database in var/, seed the demo population, serve the portal on :8000
run: $(STAMP)
	$(BIN)/yibao db upgrade
	$(BIN)/yibao demo seed
	YIBAO_CLOCK=$${YIBAO_CLOCK-$(DEMO_CLOCK)} $(BIN)/yibao serve

## test: lint, types and the whole test suite (SQLite and PostgreSQL)
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/yibao policy check
	$(BIN)/pytest -q -n 2

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: $(STAMP)
	$(BIN)/mypy

## bench: benchmarks (not tests); figures go to bench/results/
bench: $(STAMP)
	$(BIN)/python bench/engine.py
	$(BIN)/python bench/ledger.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
