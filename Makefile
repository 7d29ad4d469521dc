# The two commands: `make run` and `make test`. Both create .venv when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck install db-upgrade bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/coachbot db upgrade >/dev/null
	$(BIN)/coachbot run

lint: $(STAMP)
	$(BIN)/ruff check bot adapters storage tests bench
	$(BIN)/ruff format --check bot adapters storage tests bench
	$(BIN)/lint-imports


typecheck: $(STAMP)
	$(BIN)/mypy

test: $(STAMP) lint typecheck
	$(BIN)/python -m pytest -q -n auto --dist loadfile

db-upgrade: $(STAMP)
	$(BIN)/coachbot db upgrade

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
