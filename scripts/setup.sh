#!/usr/bin/env bash
# Create .venv (Python 3.11 or 3.12: durable-rules does not import on 3.13) and install shuangtan
# into it, editable, with every extra and the test tools: `-e ".[all,test]"`. Idempotent: when
# pyproject.toml has not changed since the last install, nothing is installed again.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-}
if [ -z "$PY" ]; then
  for cand in python3.12 python3.11 python3; do
    if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys; sys.exit(not ((3,11) <= sys.version_info[:2] < (3,13)))' 2>/dev/null; then
      PY=$cand; break
    fi
  done
fi
[ -n "$PY" ] || { echo "need Python 3.11 or 3.12 (durable-rules fails to import on 3.13)" >&2; exit 1; }
[ -x .venv/bin/python ] || "$PY" -m venv .venv
stamp=.venv/.shuangtan-installed
want="$(sha256sum pyproject.toml | cut -d' ' -f1) $PWD"
if [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] && [ -x .venv/bin/shuangtan ]; then
  exit 0
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e ".[all,test]"
# Compile the columnar kernel now (about a minute, once; cached per kernel source) rather than
# inside the first evaluate or simulate.
.venv/bin/python -m engine.backends.columnar.warm
echo "$want" > "$stamp"
