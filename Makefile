# DL Portal: the one place where the virtualenv and the front-end files are set up.
#
#   make run     serve on http://127.0.0.1:8000 (SQLite + in-process tasks unless DATABASE_URL /
#                REDIS_URL are set; with REDIS_URL a Celery worker and beat run beside it)
#   make test    run the test suite (PYTEST_ARGS="-k name -x" passes options to pytest)
#
# Stamps keep reruns cheap: pip runs again only when requirements*.txt change, npm only when
# package-lock.json changes, the vendor copy only when node_modules or its script change.

.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

VENV_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.package-lock.json
VENDOR_STAMP := static/vendor/.vendored

.PHONY: help install assets run test lint format clean

help: ## List the targets
	@echo "DL Portal targets:"
	@grep -E '^[a-z][a-z-]*:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*## "} {printf "  make %-8s %s\n", $$1, $$2}'

install: $(VENV_STAMP) ## Create .venv and install requirements-dev.txt (runtime + tools)

assets: $(VENDOR_STAMP) ## npm ci and copy Bootstrap / Chart.js into static/vendor/

# DEBUG defaults to true for the local server only; a DEBUG set in the environment wins.
run: export DEBUG ?= true
run: install assets ## Migrate, seed demo data into an empty database, serve on 127.0.0.1:8000
	mkdir -p var
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo --if-empty
	bash scripts/run.sh

test: install assets ## Run pytest (SQLite unless DATABASE_URL is set); PYTEST_ARGS passes options
	mkdir -p var
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# Every check runs even after one fails, so one run shows all problems.
lint: install ## ruff check, ruff format --check, djlint --lint on templates/
	@status=0; \
	echo "+ ruff check ."; $(VENV)/bin/ruff check . || status=1; \
	echo "+ ruff format --check ."; $(VENV)/bin/ruff format --check . || status=1; \
	if [ -n "$$(find templates -name '*.html' -print -quit 2>/dev/null)" ]; then \
		echo "+ djlint templates --lint"; $(VENV)/bin/djlint templates --lint || status=1; \
	else echo "djlint: no templates/*.html yet, skipped"; fi; \
	exit $$status

# check --fix first so its import sorting is then formatted; djlint exits 1 when it changed a file.
format: install ## Rewrite code in place: ruff check --fix, ruff format, djlint --reformat
	@status=0; \
	echo "+ ruff check --fix ."; $(VENV)/bin/ruff check --fix . || status=1; \
	echo "+ ruff format ."; $(VENV)/bin/ruff format . || status=1; \
	if [ -n "$$(find templates -name '*.html' -print -quit 2>/dev/null)" ]; then \
		echo "+ djlint templates --reformat"; $(VENV)/bin/djlint templates --reformat --quiet || true; \
	fi; \
	exit $$status

clean: ## Remove .venv, node_modules, static/vendor and var/ (the local database too)
	rm -rf $(VENV) node_modules static/vendor var

$(VENV_STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] < (3, 11))' || \
		{ echo "DL Portal needs Python 3.11 or newer: set PYTHON=/path/to/python3.11"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

$(VENDOR_STAMP): $(NODE_STAMP) scripts/vendor_assets.py | $(VENV_STAMP)
	$(PY) scripts/vendor_assets.py
