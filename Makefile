# Quick start: `make demo` pushes the samples to the embedded sandbox; `make test` runs the tests.
# Both create .venv and install the project into it on first use (needs only Python 3.11+).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench clean wheel wheel-check

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed (set PYTHON=python3.11)")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@# Byte-compile the package as a regular install does (an editable one leaves it to the first
	@# import, which cannot cache it where PYTHONDONTWRITEBYTECODE is set: ~0.15 s per start).
	$(BIN)/python -m compileall -q importer
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m importer.demo

test: $(STAMP)
	$(BIN)/ruff check importer tests bench
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

wheel: $(STAMP)
	$(BIN)/python -m pip wheel --quiet --no-deps --wheel-dir dist .

# The wheel, installed (not editable) into a clean venv outside the repo, runs --version, mapping presets, validate.
wheel-check: $(STAMP)
	PYTHON=$(PYTHON) scripts/wheel-check

bench: $(STAMP)
	$(BIN)/python -m compileall -q importer
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) out dist build .pytest_cache .ruff_cache .mypy_cache
