# Two commands matter: `make run` (the sandbox) and `make test` (the whole suite).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
POSTGRES_TEST_DSN ?= postgresql://postgres@127.0.0.1:5432/postgres
# pytest-xdist workers; each has its own test databases and emulator. `TEST_WORKERS=0` runs in one process.
TEST_WORKERS ?= auto

.PHONY: run test lint typecheck pytest pytest-sqlite pytest-postgres openapi bench emulator clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed-runtime: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed-runtime

run: $(VENV)/.installed-runtime
	VMBACKUP_SANDBOX=true $(BIN)/vmbackup migrate
	VMBACKUP_SANDBOX=true $(BIN)/vmbackup serve --port $(PORT)

test: lint typecheck pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy app emulator migrations deploy

pytest: pytest-sqlite pytest-postgres

pytest-sqlite: $(VENV)/.installed-dev
	VMBACKUP_TEST_DATABASE=sqlite $(BIN)/pytest -q -n $(TEST_WORKERS)

# The emulator does not touch the database, so its tests run once, in the SQLite pass. The fault
# tests time real processes (lease takeovers, restarts): they run after the rest, on their own.
pytest-postgres: $(VENV)/.installed-dev
	@$(BIN)/python -c "import asyncio, asyncpg; asyncio.run(asyncpg.connect('$(POSTGRES_TEST_DSN)', timeout=5))" \
	  || { echo "PostgreSQL is not reachable at $(POSTGRES_TEST_DSN); start it (see README) or set POSTGRES_TEST_DSN"; exit 1; }
	VMBACKUP_TEST_DATABASE=postgres VMBACKUP_TEST_POSTGRES_ADMIN_DSN=$(POSTGRES_TEST_DSN) \
	  $(BIN)/pytest -q -n $(TEST_WORKERS) --ignore=tests/emulator --ignore=tests/faults
	VMBACKUP_TEST_DATABASE=postgres VMBACKUP_TEST_POSTGRES_ADMIN_DSN=$(POSTGRES_TEST_DSN) \
	  $(BIN)/pytest -q tests/faults

openapi: $(VENV)/.installed-runtime
	$(BIN)/vmbackup openapi --output openapi/openapi.json

bench: $(VENV)/.installed-dev
	for script in bench/[!_]*.py; do \
	  case $$script in bench/ab_*) continue;; esac; \
	  $(BIN)/python $$script || exit 1; \
	done

emulator: $(VENV)/.installed-runtime
	$(BIN)/python -m emulator --host 127.0.0.1 --port 4566 --scenario demo

clean:
	rm -rf $(VENV) vmbackup.db vmbackup.db-wal vmbackup.db-shm
