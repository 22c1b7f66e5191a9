#!/usr/bin/env bash
# Set up (idempotent), then lint, check the formatting, type-check and run the whole test suite.
# Every step is fatal. Arguments go to pytest (e.g. scripts/test.sh -x tests/cli).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
step() { printf '\n== %s\n' "$*"; }
step "ruff check";          .venv/bin/ruff check .
step "ruff format --check"; .venv/bin/ruff format --check .
step "mypy";                .venv/bin/mypy
step "pytest";              exec .venv/bin/python -m pytest "$@"
