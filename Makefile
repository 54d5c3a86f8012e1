# Hotline developer entry points. Each target builds its own virtual environment.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: serve test lint bench clean

$(BIN)/hotline: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(BIN)/hotline

## Run Hotline on embedded defaults (SQLite, in-memory state, sample airline config).
serve: $(BIN)/hotline
	$(BIN)/hotline db upgrade --config config/hotline.yaml
	$(BIN)/hotline serve --config config/hotline.yaml

## Start PostgreSQL and Redis when absent, build (or reuse) the tests' Asterisk, then run lint,
## types and the test suite (tests/pbx calls through that real Asterisk; see docs/pbx-tests.md).
test: $(BIN)/hotline
	bash .ci/services
	nice -n 10 bash tools/pbx/build.sh >/dev/null
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest -q

lint: $(BIN)/hotline
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: $(BIN)/hotline
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
