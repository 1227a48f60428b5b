# The README's first two commands: `make demo` and `make test`. Each installs what it
# needs into the interpreter in use (PYTHON), then runs.
PYTHON ?= python3
PIP := $(PYTHON) -m pip
STAMP := .make-installed
# The import-linter console script (`python -m importlinter.cli` runs nothing: no __main__).
LINT_IMPORTS ?= lint-imports

.PHONY: install demo test unit lint sync reports clean

install: $(STAMP)

# Reinstall only when the dependency lists change.
$(STAMP): requirements.txt pyproject.toml
	$(PIP) install -r requirements.txt
	$(PIP) install --no-deps -e .
	$(PYTHON) -m ipykernel install --user --name python3 >/dev/null
	touch $(STAMP)

# The main job on the embedded benchmark (full size; generated once, about 6-8 minutes
# on 2 cores, then reused); the executed notebook lands in reports/.
demo: install
	$(PYTHON) -m papermill notebooks/01_eda.ipynb reports/01_eda.ipynb --cwd notebooks

# Lint, the import layers, unit tests, notebook hygiene tests, then every notebook at smoke
# size under nbmake.
test: install
	$(PYTHON) -m ruff check dflib tests scripts notebooks/*.py
	$(LINT_IMPORTS)
	$(PYTHON) -m pytest tests notebooks --nbmake --nbmake-timeout=1800

unit: install
	$(PYTHON) -m pytest tests

lint:
	$(PYTHON) -m ruff check dflib tests scripts notebooks/*.py
	$(PYTHON) -m ruff format --check dflib tests scripts
	$(LINT_IMPORTS)

# Rebuild each .ipynb from its reviewed .py twin (outputs are never committed).
sync:
	$(PYTHON) -m jupytext --sync notebooks/[0-9]*.py

# Every notebook at full size, executed copies in reports/ (tens of minutes on a CPU).
reports: install
	for nb in notebooks/[0-9]*.ipynb; do \
		$(PYTHON) -m papermill $$nb reports/$$(basename $$nb) --cwd notebooks || exit 1; \
	done

clean:
	rm -rf $(STAMP) .pytest_cache .ruff_cache
