# Two commands for a newcomer: `make run` (set up, migrate, serve) and `make test` (set up, run the suite).
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: install run test lint bench openapi services browser clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
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
	$(BIN)/floorplan serve --host $(HOST) --port $(PORT) --workers 2

# The suite runs against both profiles; the production one needs MariaDB on 127.0.0.1:3306.
test: install services browser lint
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy api worker shared

services:
	@bash .ci/services

# Debian's chromium for the dashboard's browser test (installed once; Playwright never downloads one).
browser:
	@bash .ci/browser

bench: install services
	$(BIN)/python -m tests.bench_api --profile embedded
	$(BIN)/python -m tests.bench_api --profile production

openapi: install
	$(BIN)/floorplan openapi -o openapi.yaml

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
