# The README's first two commands: `make demo` and `make test`. Each installs what it
# needs into the interpreter in use (PYTHON), then runs.
PYTHON ?= python3
PIP := $(PYTHON) -m pip
# The install stamp lives in the interpreter's own site-packages and names this tree, so a
# new interpreter (another machine, a new venv) or a tree at another path installs again
# instead of trusting a stale file.
STAMP := $(shell $(PYTHON) -c "import sysconfig, hashlib, os; print(sysconfig.get_path('purelib') + '/dflib-make-installed-' + hashlib.sha1(os.getcwd().encode()).hexdigest()[:12])")
# The import-linter console script (`python -m importlinter.cli` runs nothing: no __main__).
LINT_IMPORTS ?= lint-imports

# Notebooks run in the interpreter that runs papermill or pytest (PYTHON), whatever kernels
# the user has. Jupyter looks a kernel name up in JUPYTER_PATH first, then in the user's
# own folder (~/.local/share/jupyter/kernels, which outside a virtual or conda environment
# shadows even the running interpreter's kernel), then the environment's and the
# system's. So every command below sees a folder of this tree first, holding a "python3"
# spec (the notebooks' kernel name) that starts PYTHON: one folder per interpreter, under
# build/ (KERNEL_PREFIX=... to choose another). Nothing is written into the user's Jupyter
# folders, and the specs there are left as they are.
KERNEL_PREFIX := $(CURDIR)/build/jupyter-$(shell $(PYTHON) -c "import sys, hashlib; print(hashlib.sha1(sys.executable.encode()).hexdigest()[:12])")
KERNEL_SPEC := $(KERNEL_PREFIX)/share/jupyter/kernels/python3/kernel.json
export JUPYTER_PATH := $(KERNEL_PREFIX)/share/jupyter$(if $(JUPYTER_PATH),:$(JUPYTER_PATH))
# How `demo` runs a notebook (its output, the training epochs included, in the terminal)
# and how `test` runs every notebook (nbmake); `make notebook` and `make notebook-test` run
# one notebook each way.
PAPERMILL = $(PYTHON) -m papermill --no-progress-bar --log-output
NBMAKE = $(PYTHON) -m pytest --nbmake --nbmake-timeout=1800

.PHONY: install demo test test-demo breaks unit lint sync reports training results bench clean notebook \
	notebook-test wheelhouse campaign notebooks

# The editable install may point at another tree since (it is one per interpreter): if
# `import dflib`, run outside this tree, is not this tree's, point it back here.
install: $(STAMP) $(KERNEL_SPEC)
	@cd / && $(PYTHON) -c "import dflib, os, sys; sys.exit(os.path.realpath(dflib.__file__) != os.path.realpath('$(CURDIR)/dflib/__init__.py'))" 2>/dev/null \
		|| $(PIP) install --no-deps -e "$(CURDIR)"

# Reinstall only when the dependency lists change.
$(STAMP): requirements.txt pyproject.toml
	$(PIP) install -r requirements.txt
	$(PIP) install --no-deps -e .
	touch $(STAMP)

# The notebooks' kernel, for this tree's commands only (see KERNEL_PREFIX above).
$(KERNEL_SPEC): | $(STAMP)
	$(PYTHON) -m ipykernel install --prefix "$(KERNEL_PREFIX)" --name python3 >/dev/null

# The main job on the embedded benchmark, on 2 CPU cores in under 10 minutes: a demo-size
# benchmark (6,000 labelled + 1,200 test images), the EDA, FreqNet + the CoherentNoiseFilter
# trained at 64 px for 3 epochs (the model that learns fastest on a CPU: reports/training.md),
# the threshold tuned on validation (notebook 10: threshold.json), the submission at it,
# and the scores.
# Executed notebooks land in reports/demo/; each notebook's output (the training epochs'
# lines included) is shown in the terminal as it runs (papermill --log-output).
# Running it again reuses the benchmark and the finished run.
# Each notebook ends with its checks; the demo size's expectations (the DEMO table of
# scripts/expectations.py, one -y argument per notebook) are passed here, so the checks of
# 01, 07 and 10 are held to what this size gives (reports/demo/*.ipynb show them).
DEMO_RUN ?= runs/demo-freqnet
DEMO := -p synthetic_size demo
EXPECT = $(shell $(PYTHON) scripts/expectations.py $(1) $(2))
demo: install
	mkdir -p reports/demo
	$(PYTHON) -m dflib generate --size demo
	$(PAPERMILL) notebooks/01_eda.ipynb reports/demo/01_eda.ipynb --cwd notebooks $(DEMO) \
		$(call EXPECT,demo,01_eda)
	$(PAPERMILL) notebooks/07_train_freqnet.ipynb reports/demo/07_train_freqnet.ipynb \
		--cwd notebooks $(DEMO) -p img_size 64 -p epochs 3 $(call EXPECT,demo,07_train_freqnet) \
		-p out $(DEMO_RUN) -p resume True
	$(PAPERMILL) notebooks/10_threshold_tuning.ipynb reports/demo/10_threshold_tuning.ipynb \
		--cwd notebooks -p run $(DEMO_RUN) $(call EXPECT,demo,10_threshold_tuning)
	$(PYTHON) -m dflib predict --run $(DEMO_RUN) --size demo --out reports/demo/submission.csv --no-progress
	@echo; $(PYTHON) -m dflib show --run $(DEMO_RUN)
	@echo "  executed notebooks reports/demo/01_eda.ipynb, 07_train_freqnet.ipynb, 10_threshold_tuning.ipynb"
	@echo "  submission        reports/demo/submission.csv"

# The learned floor of every training notebook (04-09), at the size where they learn on a
# CPU: the demo benchmark, 64 px, 3 epochs, no fine-tuning, seed 42 (about an hour on 2
# cores). Each notebook's checks hold its validation AUC to the floor of the demo table
# (scripts/expectations.py) and print the 99th percentile of label-shuffled predictions
# beside it. Executed copies land in reports/test-demo/; every notebook runs, then the
# target fails if any failed.
test-demo: install
	mkdir -p reports/test-demo build
	$(PYTHON) -m dflib generate --size demo
	$(PYTHON) scripts/expectations.py test-demo > build/test-demo.txt
	status=0; while read -r args; do eval "$(PAPERMILL) --cwd notebooks $$args" || status=1; \
		done < build/test-demo.txt; exit $$status

# Each notebook's checks against a wrong answer: the library broken once per notebook
# (scripts/breaks.py), each notebook run at the CI size on that copy must stop in its
# checks on the row that states its answer; the table lands in reports/notebook_breaks.md
# (about 15 minutes on 2 cores; BREAKS="10_threshold_tuning ..." runs some of them).
breaks: install
	$(PYTHON) scripts/breaks.py $(BREAKS)

# Lint, the import layers, unit tests, notebook hygiene tests, then every notebook at smoke
# size under nbmake, on every core (pytest-xdist: TEST_WORKERS=1 for one process; a
# notebook's nbmake run and its papermill run on a user's folder share one worker, in turn:
# --dist loadgroup, tests/conftest.py); the 15 slowest tests are listed at the end, so the
# next person sees where the time goes.
TEST_WORKERS ?= auto
test: install
	$(PYTHON) -m ruff check dflib tests scripts bench notebooks/*.py
	$(LINT_IMPORTS)
	$(NBMAKE) tests notebooks -n $(TEST_WORKERS) --dist loadgroup --durations=15

# One notebook the way `demo` runs each of its own, and the way `test` does:
#   make notebook NB=notebooks/01_eda.ipynb OUT=/tmp/01_eda.ipynb ARGS="-p synthetic_size smoke"
#   make notebook-test NB=notebooks/01_eda.ipynb
notebook: install
	$(PAPERMILL) "$(NB)" "$(OUT)" $(ARGS)

notebook-test: install
	$(NBMAKE) "$(NB)" $(ARGS)

unit: install
	$(PYTHON) -m pytest tests

lint:
	$(PYTHON) -m ruff check dflib tests scripts bench notebooks/*.py
	$(PYTHON) -m ruff format --check dflib tests scripts bench
	$(LINT_IMPORTS)

# Write the training notebooks 04-09 from their one template (scripts/notebooks.py), then
# rebuild each .ipynb from its reviewed .py twin (outputs are never committed).
notebooks:
	$(PYTHON) scripts/notebooks.py
	$(PYTHON) -m jupytext --sync notebooks/[0-9]*.py

sync: notebooks

# The analysis notebooks (01-03) at full size, executed copies in reports/ (tens of minutes
# on a CPU). The training notebooks run through scripts/train_table.py (`make training`).
reports: install
	for nb in notebooks/0[1-3]_*.ipynb; do \
		$(PYTHON) -m papermill $$nb reports/$$(basename $$nb) --cwd notebooks || exit 1; \
	done

# Every architecture at the same data size, image size and epochs -> reports/training.md.
training: install
	$(PYTHON) scripts/train_table.py --out reports/training.md

# The architecture rankings at convergence on the demo benchmark: the seven ranked
# architectures, 64 px, up to 30 epochs with early stopping 5 on validation AUC, seeds in
# order (42 of all seven first: look at their curves before raising CAMPAIGN_SEEDS to 3, and
# choose a higher cap - new runs, new names - if most hit it still rising). Resumable: run it
# again after a stop and it skips finished runs and resumes the unfinished one from its
# last.pt; each finished run's ledger entry lands in reports/runs/ (commit it, then `make
# results`). At the lowest CPU priority, beside other work.
CAMPAIGN_ARCHS := custom_resnet rgb_fft freqnet hrnet_artifact hybrid_xception_freq_transformer \
	xception_resnet50 resnet50
CAMPAIGN_SEEDS ?= 1
campaign: install
	nice -n 19 $(PYTHON) scripts/claims_runs.py --size demo --img-size 64 --epochs 30 \
		--train-images 0 --early-stopping 5 --early-stopping-metric auc --seeds $(CAMPAIGN_SEEDS) \
		--archs $(CAMPAIGN_ARCHS) --only 'claims-arch-*' --out-dir runs --export reports/runs

# reports/leaderboard.md, reports/claims.md (and reports/training.md, when the ledger holds
# its table-<arch> runs) from the run ledger alone (reports/runs/:
# the small files of every run they cite), on any machine, no runs/ needed. Runs come in
# with `python scripts/ledger.py import FILE.tar.gz` (or `add RUN_DIR`).
results: install
	$(PYTHON) scripts/results.py

# A folder of wheels for a machine without internet (a Kaggle code competition; README:
# Kaggle): dflib and every package its requirements need except torch and torchvision,
# which the platforms ship built for their GPUs, for CPython WHEEL_PYTHON (3.11: Kaggle's;
# Colab's is 3.12; several: WHEEL_PYTHON="3.11 3.12") on manylinux x86_64. It fails if a
# torch, torchvision, triton or nvidia wheel is in the folder. Needs pip and the index,
# not the requirements (scripts/wheelhouse.py).
WHEELHOUSE ?= build/wheelhouse
WHEEL_PYTHON ?= 3.11
wheelhouse:
	$(PYTHON) scripts/wheelhouse.py --out "$(WHEELHOUSE)" $(foreach v,$(WHEEL_PYTHON),--python-version $(v))

clean:
	rm -rf $(STAMP) build/jupyter-* .pytest_cache .ruff_cache

# Speed: every benchmark table on this machine (run it alone), then reports/benchmarks.md
# from the results of every device measured (reports/benchmarks/*.json).
bench: install
	$(PYTHON) bench/run.py
