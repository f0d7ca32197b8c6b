#!/usr/bin/env bash
# Lint: ruff (pyproject [tool.ruff]), mypy ([tool.mypy]) and no function over 80 lines (scripts/long_functions.py).
#   scripts/lint.sh             the whole tree; exit 1 on any finding
#   scripts/lint.sh --report    the whole tree; findings counted by kind and file, exit 0 (what is left to do)
#   scripts/lint.sh PATH...     only these paths; exit 1 on any finding (`make check` runs it on $(LINT_CLEAN))
# MYPY_PENDING="FILE ..." leaves those files out of mypy (not ruff, not the 80-line rule) for PATH... runs: the files
# whose type findings are still being fixed (the Makefile lists them; --report always counts them). MYPY_WORKERS: below.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
TREE=(conveyor spectra vision sampler plc analysis tests benchmarks scripts)

report=0
if [ "${1:-}" = "--report" ]; then report=1; shift; fi
if [ "$#" -gt 0 ]; then paths=("$@"); else paths=("${TREE[@]}"); fi
# mypy checks the installed packages' code and the benchmarks (tests and scripts are not annotated for it: the
# test helpers the benchmarks import are followed silently)
mypy_paths=()
for p in "${paths[@]}"; do
  case "$p" in conveyor*|spectra*|vision*|sampler*|plc*|analysis*|benchmarks*) mypy_paths+=("$p");; esac
done
# mypy type-checks on MYPY_WORKERS processes (mypy's --num-workers; default 2, the machines' cores): the same findings,
# a fresh clone's check (no mypy cache) in about two thirds of the wall time of one process for ~6 % more CPU.
follow=(--follow-imports=silent --num-workers "${MYPY_WORKERS:-2}")
if [ "$#" -gt 0 ]; then  # a subset: report only its own findings, without the pending files
  for f in ${MYPY_PENDING:-}; do follow+=(--exclude "^${f//./\\.}\$"); done
fi

if [ "$report" = 1 ]; then
  echo "== ruff (by rule)"
  "$PY" -m ruff check --statistics "${paths[@]}" || true
  echo "== mypy (by error code, then by file)"
  out=$("$PY" -m mypy "${follow[@]}" "${mypy_paths[@]}" 2>&1)
  echo "$out" | tail -1
  echo "$out" | grep -oE '\[[a-z-]+\]$' | sort | uniq -c | sort -rn
  echo "$out" | grep -E '^[^ ]+\.py:[0-9]+: error' | cut -d: -f1 | sort | uniq -c | sort -rn
  echo "== functions over 80 lines"
  "$PY" scripts/long_functions.py --report "${paths[@]}"
  exit 0
fi

rc=0
echo "lint: ruff check ${paths[*]}"
"$PY" -m ruff check --output-format concise "${paths[@]}" || rc=1
if [ "${#mypy_paths[@]}" -gt 0 ]; then
  echo "lint: mypy ${mypy_paths[*]}"
  "$PY" -m mypy "${follow[@]}" "${mypy_paths[@]}" || rc=1
fi
echo "lint: functions over 80 lines"
"$PY" scripts/long_functions.py "${paths[@]}" || rc=1
exit "$rc"
