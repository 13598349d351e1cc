# Parcours — `make run` serves the app, `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test bench lint format install clean i18n i18n-check

$(BIN)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Parcours needs Python 3.11 or newer (found: $$($(PYTHON) --version))."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

install: $(BIN)/.installed

run: install
	$(BIN)/parcours dev

# Two processes on the two cores CI has; the browser tests stay together in one of them.
TEST_WORKERS ?= 2
test: install
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup

bench: install
	$(BIN)/python bench/run.py

# Catalogs: extract every marked string into the .po files (translations kept), then compile
# the .mo files that ship in the package. `i18n-check` lists what is missing or unmarked.
i18n: install
	$(BIN)/python -m app.i18n.catalog_tool extract
	$(BIN)/python -m app.i18n.catalog_tool compile

i18n-check: install
	$(BIN)/python -m app.i18n.catalog_tool check
	$(BIN)/python -m app.i18n.unmarked

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) test-artifacts .pytest_cache .mypy_cache .ruff_cache
