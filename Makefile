# The README's two commands are `make run` and `make test`; the rest are helpers.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app trainapp
export TRAINAPP_ENV ?= development

.PHONY: run test check install install-test migrate demo-data lint css clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

migrate: install
	$(FLASK) db upgrade

demo-data: migrate
	$(FLASK) demo-data

run: demo-data
	$(FLASK) run --host 127.0.0.1 --port 5000

test: install-test
	TRAINAPP_ENV=production $(BIN)/python -m pytest -n $${PYTEST_WORKERS:-$$(( $$(nproc) + 1 ))} $(PYTEST_ARGS)

lint: install-test
	$(BIN)/ruff check .

# Lint, formatting and types (mypy reads its settings and paths from pyproject.toml); CI runs this before the tests.
check: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Rebuilds static/css/app.css from GOV.UK Frontend's Sass (needs Node; the result is committed).
css:
	cd build-css && npm install --no-audit --no-fund && npx sass --load-path=node_modules \
		--style=compressed --no-source-map ../static/scss/app.scss ../static/css/app.css

clean:
	rm -rf $(VENV) .pytest_cache
