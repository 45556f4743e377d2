# The two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test check install timescaledb bench clean

run: install timescaledb  ## everything installed, local database up, migrated, demo data, analytics shown
	$(BIN)/ops-db db up
	$(BIN)/ops-db migrate
	$(BIN)/ops-db demo
	$(BIN)/ops-db status

test: install timescaledb  ## everything installed, the whole suite
	$(BIN)/pytest

check: install  ## lint and types, as CI runs them
	$(BIN)/ruff check ops_db tests benchmarks
	$(BIN)/mypy
	@if command -v shellcheck >/dev/null; then shellcheck scripts/*.sh; \
	else echo "shellcheck not installed: scripts/*.sh not checked (apt-get install shellcheck)"; fi

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

timescaledb:
	bash scripts/install-timescaledb.sh

clean:
	-$(BIN)/ops-db db down
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

bench: install timescaledb  ## ratio benchmarks against the local cluster (see benchmarks/README.md)
	$(BIN)/ops-db db up
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)
