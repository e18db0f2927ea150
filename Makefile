# Hezuo — `make run` serves the embedded demo, `make test` runs the suite (see README).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
PIP := $(PY) -m pip
export HEZUO_ENV ?= development
export HEZUO_DATABASE_URL ?= sqlite:///var/hezuo.db

.PHONY: run serve install install-test migrate demo test test-sqlite test-postgres lint format bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PIP) install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(PY)
	$(PIP) install --quiet -e '.[test,dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

migrate: install
	$(BIN)/hezuo db upgrade

demo: migrate
	$(BIN)/hezuo demo load

run: demo
	$(BIN)/hezuo serve --host 127.0.0.1 --port 8000

# Two pytest workers (pytest-xdist): every test has its own database, so they never collide.
PYTEST_ARGS ?= -n 2

# The whole suite on SQLite (browser journeys included), then on PostgreSQL when
# HEZUO_TEST_DATABASE_URL is set. In CI (CI=true) the PostgreSQL pass is required.
test: install-test
	$(MAKE) test-sqlite
	@if [ -n "$$HEZUO_TEST_DATABASE_URL" ]; then \
		$(MAKE) test-postgres; \
	elif [ "$$CI" = "true" ]; then \
		echo "CI=true but HEZUO_TEST_DATABASE_URL is not set: the PostgreSQL pass must run" >&2; exit 1; \
	else \
		echo "HEZUO_TEST_DATABASE_URL not set: PostgreSQL pass not run (set it to e.g. postgresql://root@127.0.0.1:5432/postgres)"; \
	fi

test-sqlite: install-test
	HEZUO_TEST_BACKEND=sqlite $(BIN)/pytest $(PYTEST_ARGS)

test-postgres: install-test
	HEZUO_TEST_BACKEND=postgres $(BIN)/pytest -m "not e2e" $(PYTEST_ARGS)

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

format: install-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The ledger benchmark, then whole HTTP requests against the bare baseline (bench/http.py).
bench: install-test
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(PY) -m bench
	$(PY) -m bench.http

clean:
	rm -rf $(VENV) var/*.db var/*.db-* .pytest_cache .mypy_cache .ruff_cache
