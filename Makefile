# Two commands for a newcomer: `make run` (set up, migrate, serve) and `make test` (set up, run the suite).
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: install run test lint bench openapi lock services browser clients node promtool clean

$(STAMP): pyproject.toml clients/python/pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	$(BIN)/python -m pip install -q -e ./clients/python  # the official client, which `floorplan submit` drives
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/floorplan migrate
	@key=$$($(BIN)/floorplan keys create --tenant demo | tail -n 1); \
	echo ""; \
	echo "  API key for tenant 'demo': $$key"; \
	echo "  Try:  curl -s -H 'Authorization: Bearer $$key' -H 'Content-Type: application/json' \\"; \
	echo "          --data @examples/flat-2b.json http://$(HOST):$(PORT)/v1/plans"; \
	echo ""
	$(BIN)/floorplan serve --host $(HOST) --port $(PORT) --workers auto

# The suite runs against both profiles; the production one needs MariaDB on 127.0.0.1:3306.
test: install services browser clients node promtool lint
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy api worker shared tests clients/python/src/floorplan_client
	$(BIN)/lint-imports

services:
	@bash .ci/services

# Debian's chromium for the dashboard's browser test (installed once; Playwright never downloads one).
browser:
	@bash .ci/browser

# Debian's ruby and jq, and the Node example's pinned npm packages, for the client examples' test.
clients:
	@bash .ci/clients

# Node and the npm tools pinned in tests/package.json: the linters and generators integrators run on openapi.yaml.
node:
	@bash .ci/node

# Debian's prometheus package, for promtool (infra/prometheus's rules and the Grafana dashboard's queries).
promtool:
	@bash .ci/promtool

# wrk from Debian's packages drives the API benchmark (tests/bench_api.py falls back to Python without it).
bench: install services
	@command -v wrk >/dev/null || (apt-get install -y -qq wrk >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq wrk >/dev/null 2>&1) || echo "wrk unavailable: the API bench uses its Python load generator")
	$(BIN)/python -m tests.bench_api --profile embedded
	$(BIN)/python -m tests.bench_api --profile production
	$(BIN)/python -m tests.bench_fairness --profile embedded
	$(BIN)/python -m tests.bench_fairness --profile production
	$(BIN)/python -m tests.bench_fleet --profile embedded
	$(BIN)/python -m tests.bench_fleet --profile production

openapi: install
	$(BIN)/floorplan openapi -o openapi.yaml

# The images' Python dependencies, pinned with hashes (both Dockerfiles install from it); run after changing
# pyproject.toml's dependencies. tests/test_infra_images.py fails while it is behind.
lock: install
	$(BIN)/uv pip compile pyproject.toml --python-version 3.11 --python-platform x86_64-manylinux_2_36 \
	    --generate-hashes --quiet -o requirements.lock

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache tests/node_modules
