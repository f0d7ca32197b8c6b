# oreline: two commands matter — `make demo` and `make test` (see README).
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STAMP := $(VENV)/.oreline-installed

.PHONY: setup aravis system-deps demo test bench clean

setup: $(STAMP) aravis

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

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

test: system-deps setup
	$(PY) -m pytest

bench: setup
	$(PY) -m benchmarks.run_all

clean:
	rm -rf $(VENV) runs .pytest_cache .hypothesis
