# The two README commands. Each creates .venv on a fresh machine with
# Python 3.11 and installs everything it needs; nothing is assumed.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo console test test-deps bench lint fmt-check clean vsix bytecode
AT := 2026-11-30 10:00 Asia/Shanghai

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Our modules' bytecode. An editable install compiles none of it, and where
# PYTHONDONTWRITEBYTECODE is set Python never writes it, so every `ccf` would
# compile each module from source (about 0.3 s a run). compileall writes it
# regardless and skips a module whose .pyc is current; a module edited since is
# compiled afresh at import (never run stale) until the next make refreshes it.
PACKAGES := ccdsl cli compiler runtime stdlib_flows
bytecode: $(STAMP)
	$(BIN)/python -m compileall -q $(PACKAGES)

# A simulated call through examples/iws: an unknown caller presses 1, keys
# order 20261128 and hears its status, presses 0 and reaches an agent, then
# rates the call 5. The CRM is examples/iws/crm/, the agents agents.toml.
demo: bytecode
	$(BIN)/ccf validate examples/iws
	$(BIN)/ccf simulate examples/iws/hotline.ccf --caller +8613900000000 \
		--at "$(AT)" --press "1 20261128# 0 5" \
		--agents examples/iws/agents.toml
	@echo
	@echo "The console (agent desk, wallboard) over the same centre, callers arriving:"
	@echo "  make console    # or: $(BIN)/ccf serve --simulate examples/iws --at \"$(AT)\""
	@echo "then open http://127.0.0.1:8573/ and log in as an agent or as supervisor, with a"
	@echo "password it prints for the run (Ctrl-C stops it)."

# The console over a simulated examples/iws: generated callers in real time, inside the
# hotline's opening hours; the agents answer by themselves but the one you log in as.
console: bytecode
	$(BIN)/ccf serve --simulate examples/iws --at "$(AT)"

# Debian packages the tests use, installed only when missing (as root, else
# with sudo), all in one apt-get: espeak-ng speaks the normalised zh-CN and
# en-US text in tests/asterisk/test_speech_tts.py; chromium (and
# chromium-driver, its chromedriver) runs the console's pages in
# tests/browser/; node and npm pack and test the VS Code extension (tests/editors/);
# postgresql's server (initdb, pg_ctl) runs the throwaway cluster the PostgreSQL
# store's tests start in a temp folder (tests/pg_cluster.py); systemd's
# systemd-analyze verifies the units of docs/systemd (tests/ops/test_systemd_units.py).
# Their tests fail, saying so, without them.
test-deps:
	@missing=""; \
	command -v espeak-ng >/dev/null 2>&1 || missing="$$missing espeak-ng"; \
	command -v dot >/dev/null 2>&1 || missing="$$missing graphviz"; \
	command -v node >/dev/null 2>&1 || missing="$$missing nodejs"; \
	command -v npm >/dev/null 2>&1 || missing="$$missing npm"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	command -v chromedriver >/dev/null 2>&1 || missing="$$missing chromium-driver"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v systemd-analyze >/dev/null 2>&1 || missing="$$missing systemd"; \
	[ -z "$$missing" ] || { \
	  if ! command -v apt-get >/dev/null 2>&1; then \
	    echo "missing:$$missing, and there is no apt-get: their tests will fail"; \
	  elif [ "$$(id -u)" = 0 ]; then \
	    apt-get install -y $$missing || { apt-get update && apt-get install -y $$missing; } \
	      || echo "could not install$$missing: their tests will fail"; \
	  elif command -v sudo >/dev/null 2>&1; then \
	    sudo apt-get install -y $$missing \
	      || echo "could not install$$missing: their tests will fail"; \
	  else \
	    echo "missing:$$missing (apt-get install -y$$missing as root): their tests will fail"; \
	  fi; }

test: bytecode test-deps
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

# The VS Code extension (editors/vscode) packed by the npm registry's @vscode/vsce into
# editors/vscode/ccdsl-ccf-VERSION.vsix, VERSION pyproject's. npm ci runs only when
# package-lock.json is newer than the installed node_modules.
VSCODE := editors/vscode
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)

$(VSCODE)/node_modules/.package-lock.json: $(VSCODE)/package-lock.json
	cd $(VSCODE) && npm ci --no-audit --no-fund
	touch $@

vsix: $(VSCODE)/node_modules/.package-lock.json
	@v=$$(cd $(VSCODE) && node -p "require('./package.json').version"); \
	[ "$$v" = "$(VERSION)" ] || { echo "$(VSCODE)/package.json has version $$v, pyproject.toml $(VERSION): make them equal"; exit 1; }
	cd $(VSCODE) && ./node_modules/.bin/vsce package --allow-missing-repository \
		--out ccdsl-ccf-$(VERSION).vsix

# every benchmark; what they print is kept in bench/results/DATE-HOST.json
bench: bytecode
	$(BIN)/python bench/record.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .ruff_cache
