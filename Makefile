# oreline: `make demo`, `make check` (fast tier, the edit-test loop) and `make test` (everything; CI) (see README).
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STAMP := $(VENV)/.oreline-installed
# pip without --no-compile byte-compiles every module it installs (~14,000 files with the fit extra, ~52 CPU s); the
# suite imports about 3,000 of them, which Python compiles (and caches) on first import instead (tests/conftest.py
# has the test processes cache them even where PYTHONDONTWRITEBYTECODE is set: else each process compiles them again).
PIP_INSTALL := $(PY) -m pip install --no-compile

.PHONY: setup fit-extra aravis system-deps demo lint lint-report lint-clean check test bench bench-quick reliability models clean

setup: $(STAMP) aravis

# pip's output (build warnings included) goes to .venv/setup.log; on a failure its tail is shown.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	@echo "oreline: installing into $(VENV) (log: $(VENV)/setup.log)"
	@( $(PIP_INSTALL) --upgrade pip && $(PIP_INSTALL) -e '.[test]' ) > $(VENV)/setup.log 2>&1 \
	  || { tail -40 $(VENV)/setup.log; echo "oreline: setup failed (full log: $(VENV)/setup.log)"; exit 1; }
	touch $(STAMP)

# The `fit` extra (torch, onnx): fitting the learned nets (the 4 mm/px camera model's dense net, vision/union_fit.py;
# the patch verifier, measured and not shipped). Only the tests, benchmarks, `make models` and refits need it; the
# demo and a plant install run the shipped model with onnxruntime (a core dependency) and do not.
FIT_STAMP := $(VENV)/.oreline-fit-installed
fit-extra: $(FIT_STAMP)

# With the plain setup current (after `make setup` or `make demo`), only the extra's own requirements are added
# (scripts/install_extra.py: oreline's editable wheel is not built again); otherwise (a fresh clone's `make test`)
# one pip call installs oreline with both extras and stamps the plain setup too.
$(FIT_STAMP): pyproject.toml
	@mkdir -p $(VENV); echo "oreline: installing the fit extra into $(VENV) (log: $(VENV)/setup-fit.log)"
	@if [ -f $(STAMP) ] && [ $(STAMP) -nt pyproject.toml ]; then $(PY) scripts/install_extra.py fit; \
	  else $(PYTHON) -m venv $(VENV) && $(PIP_INSTALL) --upgrade pip && $(PIP_INSTALL) -e '.[test,fit]' \
	       && touch $(STAMP); fi > $(VENV)/setup-fit.log 2>&1 \
	  || { tail -40 $(VENV)/setup-fit.log; echo "oreline: installing the fit extra failed (full log: $(VENV)/setup-fit.log)"; exit 1; }
	touch $(FIT_STAMP)

# GigE Vision (Aravis) bindings build against Debian headers; one line of output, the log in .venv/aravis-build.log.
# Checked on every setup: built once the headers are there (e.g. `make test` after an earlier `make demo`).
aravis: $(STAMP)
	@bash scripts/install-aravis-extra.sh $(VENV)

# Debian tools the tests talk to (mbpoll, chromium, aravis-tools). Tests skip with a message where absent.
system-deps:
	bash scripts/install-system-deps.sh

# The demo needs no Aravis bindings: it does not wait for their build.
demo: $(STAMP)
	$(VENV)/bin/oreline demo

# Lint (scripts/lint.sh): ruff and mypy as configured in pyproject.toml, and no function over 80 lines.
# LINT_CLEAN lists what must stay clean (checked by `make check` and `make test`); widen it as parts get clean,
# until it is the whole tree (`make lint`). `make lint-report` counts what is left, by kind and file.
LINT_CLEAN ?= conveyor spectra vision sampler plc analysis tests benchmarks scripts
# Files mypy still has findings in (`make lint-report` counts them); `make lint-clean` leaves only them out of mypy
# (ruff and the 80-line rule still cover them). Take a file out of this list as soon as it is clean.
MYPY_PENDING ?=

lint: setup
	PY=$(PY) bash scripts/lint.sh

lint-report: setup
	PY=$(PY) bash scripts/lint.sh --report

lint-clean: setup
	PY=$(PY) MYPY_PENDING="$(MYPY_PENDING)" bash scripts/lint.sh $(LINT_CLEAN)

# Tests run on PYTEST_WORKERS pytest-xdist workers (0: in-process, one at a time), a test file per worker at a time
# (`--dist loadfile`: a module's fixtures are built once; tests/conftest.py shares the model cache between workers).
# `--no-loadscope-reorder`: files are handed out in tests/conftest.py's order (the long ones first); xdist's default
# reorders them by test count, which left the longest files (one or two tests each) for the end, one worker idle.
# Each test process runs numpy's BLAS on one thread and glibc's malloc reusing freed memory (tests/conftest.py's
# RUNTIME, inherited by the workers and every subprocess; a runner's own settings win): two workers on two cores, where
# a second BLAS thread spins on the other worker's core and every large array freed and allocated again costs the
# kernel's page zeroing (the spectra CLI tests 59 -> 37 CPU s, one `oreline vision evaluate` 35 -> 29).
PYTEST_WORKERS ?= 2
PYTEST_PARALLEL := -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder

# Fast tier: lint of LINT_CLEAN, then everything not marked slow or e2e (<= 3 min on a 2-core machine), with the
# 10 slowest tests.
check: fit-extra lint-clean
	$(PY) -m pytest $(PYTEST_PARALLEL) -m "not slow and not e2e" -q --durations=10

# The whole suite (what .ci/run calls): lint of LINT_CLEAN, then every test, with the 25 slowest.
test: system-deps fit-extra lint-clean
	$(PY) -m pytest $(PYTEST_PARALLEL) --durations=25

# Every benchmark in full (minutes each); `bench-quick` runs each in its --quick mode. The test suite only checks
# that each one starts (tests/test_benchmarks.py).
bench: setup fit-extra
	$(PY) -m benchmarks.run_all

bench-quick: setup fit-extra
	$(PY) -m benchmarks.run_all --quick

# Fault suite, then docs/reliability.md and tests/faults/figures.json from its figures (tests write only runs/).
# Refit the demo's NIR and camera models into spectra/shipped and vision/shipped (a first run then fits nothing);
# needed after a change to the library, the training settings or the camera's fitting code (tests/test_shipped_models.py).
models: setup fit-extra
	$(PY) -m analysis.prepare

reliability: setup
	$(PY) -m pytest tests/faults tests/controlroom/test_raw_http.py -q
	$(PY) -m tests.faults.render

clean:
	rm -rf $(VENV) runs .pytest_cache .hypothesis
