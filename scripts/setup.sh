#!/usr/bin/env bash
# Create .venv (Python 3.11 or 3.12: durable-rules does not import on 3.13) and install shuangtan.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-}
if [ -z "$PY" ]; then
  for cand in python3.12 python3.11 python3; do
    if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys; sys.exit(not ((3,11) <= sys.version_info[:2] < (3,13)))'; then
      PY=$cand; break
    fi
  done
fi
[ -n "$PY" ] || { echo "need Python 3.11 or 3.12 (durable-rules fails to import on 3.13)" >&2; exit 1; }
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e ".[test,postgres,pdf]"
