# The two set-up commands of the README: `make run` and `make test`. Both create .venv when it is missing.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench install clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,lint,bench]'
	touch $(STAMP)

install: $(STAMP)

# `make run`: the service on SQLite with the demo school of the sample teacher questionnaires.
SAMPLE ?= examples/teachers
DEMO_DATABASE ?= sqlite:///var/demo.sqlite3
# `make run PORT=8010` when 8000 is taken
PORT ?= 8000

run: $(STAMP)
	NASTAVNIK_DATABASE_URL=$${NASTAVNIK_DATABASE_URL:-$(DEMO_DATABASE)} $(BIN)/nastavnik serve --sample $(SAMPLE) --port $(PORT)

test: $(STAMP)
	$(BIN)/python -m pytest -n auto -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python -m experiments.bench_solver
	$(BIN)/python -m experiments.bench_features
	$(BIN)/python -m experiments.bench_service

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
