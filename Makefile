# The two README commands. Each creates .venv on a fresh machine with
# Python 3.11 and installs everything it needs; nothing is assumed.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench lint fmt-check clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/ccf validate examples/iws
	$(BIN)/ccf compile examples/iws/hotline.ccf -o $(VENV)/hotline.ir.json
	@echo "IR written to $(VENV)/hotline.ir.json"

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python bench/compile.py
	$(BIN)/python bench/simulate.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .ruff_cache
