# A newcomer needs two commands: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test install lint typecheck bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## Set up, migrate the SQLite default, print the Demo workspace's key (kept in trunkline.db.demo-key
## and reused while valid), serve on :8000.
run: install
	$(BIN)/trunkline db upgrade
	@$(BIN)/trunkline workspaces demo-key
	@echo "Console: http://$(HOST):$(PORT)/console   API docs: http://$(HOST):$(PORT)/docs"
	$(BIN)/trunkline serve --host $(HOST) --port $(PORT)

## Set up, lint, type-check and run the whole suite.
test: install lint typecheck
	$(BIN)/pytest -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check core api plugins trunkline tests bench

typecheck: install
	$(BIN)/mypy

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) trunkline.db trunkline.db.demo-key test-artifacts
