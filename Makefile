# dunbot — the two commands a newcomer needs are `make demo` and `make test`.
SHELL := /bin/bash
export UV_PYTHON_DOWNLOADS := never
UV := $(shell command -v uv 2>/dev/null || echo .venv-bootstrap/bin/uv)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000

.PHONY: browser demo test test-sqlite test-postgres lint format bench env clean

$(UV):
	python3 -m venv .venv-bootstrap && .venv-bootstrap/bin/pip install -q uv

# Two stamps: the runtime alone (what `make demo` needs) and everything (tests, lint, bench).
# The demo's sync is --inexact, so it never removes the development tools `make test` installed,
# and `make test` after `make demo` adds them (its stamp is not the demo's).
$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --all-groups
	touch $@ $(VENV)/.synced-runtime

$(VENV)/.synced-runtime: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --no-dev --inexact
	touch $@

env: $(VENV)/.synced ## Create or update the virtual environment with the development tools

demo: $(VENV)/.synced-runtime ## Run the product on SQLite with the sandbox Slack page: http://127.0.0.1:$(PORT)/sandbox
	$(VENV)/bin/dunbot demo --port $(PORT)

browser: ## Debian's chromium for the browser tests (installed when running as root)
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
	  && apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; } \
	  || echo "chromium is missing: apt-get install chromium (browser tests will fail without it)"

test: env browser ## Run the whole suite (PostgreSQL too when DUNBOT_TEST_POSTGRES_URL is set)
	$(VENV)/bin/pytest

test-postgres: env ## Start a throwaway PostgreSQL and run the suite on SQLite and PostgreSQL
	eval "$$(scripts/start-postgres.sh)" && $(VENV)/bin/pytest

lint: env ## ruff check, format check and mypy (strict for recovery/, storage/, prompts/; tests too)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: env
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: env ## Benchmarks: webhook ingest, draft quality, CLI start-up, job claim, burst queue and end to end
	$(PY) -m bench.ingest
	$(PY) -m bench.drafts
	$(PY) -m bench.cli_startup
	$(PY) -m bench.claim --quick
	$(PY) -m bench.burst --quick
	$(PY) -m bench.burst --mode e2e --failures 20 --workers 1

clean:
	rm -rf $(VENV) .venv-bootstrap .pytest_cache dunbot.db* outbox
