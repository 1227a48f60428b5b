# The README's first two commands: `make demo` and `make test`. Each installs what it
# needs into the interpreter in use (PYTHON), then runs.
PYTHON ?= python3
PIP := $(PYTHON) -m pip
STAMP := .make-installed

.PHONY: install demo test unit notebooks lint sync bench clean

install: $(STAMP)

# Reinstall only when the dependency lists change.
$(STAMP): requirements.txt pyproject.toml
	$(PIP) install -r requirements.txt
	$(PIP) install --no-deps -e .
	$(PYTHON) -m ipykernel install --user --name python3 >/dev/null
	touch $(STAMP)

# The main job on the embedded benchmark; executed notebooks land in reports/.
demo: install
	$(PYTHON) -m papermill notebooks/01_eda.ipynb reports/01_eda.ipynb --cwd notebooks

# Unit tests, notebook hygiene tests, then every notebook at smoke size under nbmake.
test: install
	$(PYTHON) -m pytest tests notebooks --nbmake --nbmake-timeout=1800

unit: install
	$(PYTHON) -m pytest tests

lint:
	$(PYTHON) -m ruff check dflib tests scripts notebooks/*.py
	$(PYTHON) -m ruff format --check dflib tests scripts

# Rebuild each .ipynb from its reviewed .py twin (outputs are never committed).
sync:
	$(PYTHON) -m jupytext --sync notebooks/[0-9]*.py

clean:
	rm -rf $(STAMP) .pytest_cache .ruff_cache
