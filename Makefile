# The README's commands. `make run` and `make test` are all a fresh machine needs (Python 3.11).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench demo clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

## Serve the demo city on the embedded store (generated on first run) at http://127.0.0.1:$${PORT:-8050}
run: $(STAMP)
	$(BIN)/citybrain serve --demo-if-empty

## The whole test suite; installs PostGIS and Chromium first where it can (as root)
test: $(STAMP)
	bash tests/ensure_test_deps.sh
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .

## Benchmarks print JSON figures; see bench/README.md
bench: $(STAMP)
	$(BIN)/python -m bench.demo
	$(BIN)/python -m bench.api_drill

clean:
	rm -rf $(VENV) var .pytest_cache
