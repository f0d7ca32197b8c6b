#!/usr/bin/env bash
# Optional GigE Vision (Aravis) bindings: PyGObject builds against Debian headers (make system-deps installs them).
# Prints ONE line; the full pip log goes to $VENV/aravis-build.log. Never fails the build: without the bindings the
# Aravis tests skip. Retried whenever the system headers changed since the last attempt (so `make demo` before the
# headers arrived does not keep `make test` from building them later).
# Usage: scripts/install-aravis-extra.sh VENV
set -u
venv=${1:-.venv}
log="$venv/aravis-build.log"
done_stamp="$venv/.oreline-aravis"
failed_stamp="$venv/.oreline-aravis-failed"
headers=$(pkg-config --modversion gobject-introspection-1.0 cairo 2>/dev/null | tr '\n' ' ')
if [ -f "$done_stamp" ] && [ "$done_stamp" -nt pyproject.toml ] && "$venv/bin/python" -c "import gi" 2>/dev/null; then
  exit 0
fi
if ! pkg-config --exists gobject-introspection-1.0 cairo 2>/dev/null; then
  echo "oreline: Aravis camera bindings (PyGObject) skipped: no gobject-introspection/cairo headers yet (make system-deps); Aravis tests will skip"
  exit 0
fi
if [ -f "$failed_stamp" ] && [ "$(cat "$failed_stamp")" = "$headers" ] && [ "$failed_stamp" -nt pyproject.toml ]; then
  echo "oreline: Aravis camera bindings (PyGObject) did not build with these headers before; Aravis tests will skip (log: $log)"
  exit 0
fi
if "$venv/bin/python" scripts/install_extra.py aravis >"$log" 2>&1; then
  rm -f "$failed_stamp"
  touch "$done_stamp"
  echo "oreline: Aravis camera bindings (PyGObject) installed (log: $log)"
else
  printf '%s' "$headers" >"$failed_stamp"
  echo "oreline: Aravis camera bindings (PyGObject) did not build; Aravis tests will skip (log: $log)"
fi
exit 0
