# The two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# The migration linter: squawk's PyPI wheel carries its binary (nothing fetched at run time).
SQUAWK_VERSION := 2.70.0
SQUAWK_STAMP := $(VENV)/.squawk-$(SQUAWK_VERSION)-stamp
# The async -> sync generator (tools/async_to_sync.py) uses unasyncd's transformer, which needs only
# libcst (a dev dependency); --no-deps keeps its CLI's pins (rich, typer) out of our environment.
UNASYNCD_VERSION := 0.10.1
UNASYNCD_STAMP := $(VENV)/.unasyncd-$(UNASYNCD_VERSION)-stamp

.PHONY: run test check generate docs install timescaledb ha-tools browser reports screenshots bench bench-scale clean

run: install timescaledb  ## everything installed, local database up, migrated, demo data, analytics shown
	$(BIN)/ops-db db up
	$(BIN)/ops-db migrate
	$(BIN)/ops-db demo
	$(BIN)/ops-db status
	@$(MAKE) --no-print-directory reports

test: install $(SQUAWK_STAMP) $(UNASYNCD_STAMP) timescaledb browser ha-tools  ## everything installed (the migration linter too), the whole suite
	$(BIN)/pytest

check: install $(SQUAWK_STAMP) $(UNASYNCD_STAMP)  ## lint, types, migration linter, shell scripts: what CI runs
	$(BIN)/python tools/async_to_sync.py --check
	$(BIN)/ruff check ops_db tests benchmarks tools
	$(BIN)/mypy
	$(BIN)/python tools/lint_migrations.py --squawk $(BIN)/squawk
	@if ! command -v shellcheck >/dev/null && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing shellcheck (apt-get)"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null) \
			|| echo "shellcheck could not be installed"; fi
	@if command -v shellcheck >/dev/null; then shellcheck scripts/*.sh .ci/run && echo "shellcheck: clean"; \
	else echo "shellcheck not installed: scripts/*.sh not checked (apt-get install shellcheck)"; fi

generate: install $(UNASYNCD_STAMP)  ## regenerate the sync API from its async source (ops_db/aio)
	$(BIN)/python tools/async_to_sync.py

docs: install browser  ## regenerate docs/schema.md, docs/schema.sql and the diagram docs/schema.svg from a scratch database migrated on the configured server (ops-db db up)
	$(BIN)/python -m tests.schema_sql --regenerate

$(UNASYNCD_STAMP): $(STAMP)
	$(BIN)/pip install --quiet --no-deps 'unasyncd==$(UNASYNCD_VERSION)'
	touch $(UNASYNCD_STAMP)

$(SQUAWK_STAMP): $(STAMP)
	$(BIN)/pip install --quiet 'squawk-cli==$(SQUAWK_VERSION)'
	touch $(SQUAWK_STAMP)

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

timescaledb:
	bash scripts/install-timescaledb.sh

ha-tools:  ## Patroni, etcd and pgBackRest from Debian's own packages (apt, as root) when missing
	bash scripts/install-ha.sh

# The report tests render pages in headless Chromium; the schema diagram is drawn by Graphviz.
browser:
	@missing=""; command -v chromium >/dev/null || missing="chromium"; command -v dot >/dev/null || missing="$$missing graphviz"; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing$$missing (apt-get)"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
		else echo "missing:$$missing (apt-get install$$missing)"; exit 1; fi; fi

REPORTS_DIR ?= reports
reports: install  ## the three HTML reports of the database ops-db is pointed at, into $(REPORTS_DIR)/
	$(BIN)/ops-db report orders --html $(REPORTS_DIR)/orders.html
	$(BIN)/ops-db report health --html $(REPORTS_DIR)/health.html
	$(BIN)/ops-db report market AAPL --html $(REPORTS_DIR)/market.html
	@echo "reports: open $(abspath $(REPORTS_DIR))/orders.html, health.html and market.html in a browser"

screenshots: install timescaledb browser  ## README screenshots of the reports (docs/img/) from a fresh demo database
	$(BIN)/python -m tools.screenshots docs/img

clean:
	-$(BIN)/ops-db db down
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

bench: install timescaledb  ## ratio benchmarks against the local cluster (see benchmarks/README.md)
	$(BIN)/ops-db db up
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

bench-scale: install timescaledb  ## the growth curves at full size (a year of 100 M price rows) and their plots (benchmarks/img/)
	$(BIN)/ops-db db up
	$(BIN)/python -m benchmarks.run --only growth --rounds 3 --growth-rows 100000000 --growth-batch 200000 $(BENCH_ARGS)
	$(BIN)/python -m benchmarks.plot
