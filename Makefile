# oreline: two commands matter — `make demo` and `make test` (see README).
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STAMP := $(VENV)/.oreline-installed

.PHONY: setup system-deps demo test bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@# GigE Vision (Aravis) bindings build against Debian headers; without them the aravis tests skip.
	$(PY) -m pip install --quiet -e '.[test,aravis]' || echo "oreline: PyGObject not installed; Aravis camera tests will skip"
	touch $(STAMP)

# Debian tools the tests talk to (mbpoll, chromium, aravis-tools). Tests skip with a message where absent.
system-deps:
	bash scripts/install-system-deps.sh

demo: setup
	$(VENV)/bin/oreline demo

test: system-deps setup
	$(PY) -m pytest

bench: setup
	$(PY) -m benchmarks.run_all

clean:
	rm -rf $(VENV) runs .pytest_cache .hypothesis
