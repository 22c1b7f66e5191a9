#!/usr/bin/env bash
# Smoke test of a built wheel, installed as a user installs it, outside the checkout:
#   scripts/smoke_wheel.sh DIST_DIR
# 1. a fresh venv with shuangtan[all]: from an empty folder, with no --rules flag, every command
#    runs on the bundled rulebook, templates and rule tests;
# 2. a fresh venv with the base wheel only: check works, and a command that needs an extra says
#    which one to install, in one line, with no traceback.
# Prints "smoke: N passed, 0 failed" at the end; exits 1 at the first failure, showing its output.
set -euo pipefail
dist=$(cd "${1:?usage: smoke_wheel.sh DIST_DIR}" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
wheels=("$dist"/shuangtan-*.whl)
[ ${#wheels[@]} -eq 1 ] && [ -f "${wheels[0]}" ] || { echo "smoke: need exactly one shuangtan wheel in $dist" >&2; exit 1; }
wheel=${wheels[0]}
PY=${PYTHON:-}
if [ -z "$PY" ]; then  # as scripts/setup.sh: 3.11 or 3.12 (a pyenv shim may exist and not run)
  for cand in python3.12 python3.11 python3; do
    if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys; sys.exit(not ((3,11) <= sys.version_info[:2] < (3,13)))' 2>/dev/null; then
      PY=$cand; break
    fi
  done
fi
[ -n "$PY" ] || { echo "smoke: need Python 3.11 or 3.12" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/shuangtan-smoke.XXXXXX")
pg_db=""
cleanup() {
  if [ -n "$pg_db" ]; then "$tmp/full/bin/python" - "$pg_db" <<'PY' || true
import sys, psycopg2
c = psycopg2.connect("postgresql://postgres@127.0.0.1:5432/postgres"); c.autocommit = True
c.cursor().execute(f'DROP DATABASE IF EXISTS "{sys.argv[1]}"')
PY
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
# nothing of the checkout may leak in: no PYTHONPATH, no rules folder from the environment
unset PYTHONPATH SHUANGTAN_RULES SHUANGTAN_DB
export PYTHONNOUSERSITE=1
export SHUANGTAN_LANG=en  # Chinese by default; the checks below read the English lines

passed=0
log="$tmp/last.log"
# ok NAME CMD...: CMD must exit 0
ok() {
  local name=$1; shift
  local t0=$SECONDS
  if "$@" >"$log" 2>&1; then
    passed=$((passed + 1)); echo "  ok   $name ($((SECONDS - t0)) s)"
  else
    local rc=$?
    echo "  FAIL $name (exit $rc): $*"; sed 's/^/       /' "$log" | tail -40; exit 1
  fi
}
# expect TEXT: the last command's output contains TEXT
expect() {
  grep -qF -- "$1" "$log" || { echo "  FAIL output lacks '$1':"; sed 's/^/       /' "$log" | tail -40; exit 1; }
}
# one_line_extra NAME EXTRA CMD...: CMD fails (exit 1 or 2) saying in one line to install EXTRA
one_line_extra() {
  local name=$1 extra=$2; shift 2
  local rc=0
  "$@" >"$log" 2>&1 || rc=$?
  if [ "$rc" -ne 1 ] && [ "$rc" -ne 2 ]; then echo "  FAIL $name: exit $rc, expected 1 or 2"; cat "$log"; exit 1; fi
  if [ "$(wc -l <"$log")" -ne 1 ] || ! grep -qF "pip install 'shuangtan[$extra]'" "$log"; then
    echo "  FAIL $name: expected one line naming shuangtan[$extra], got:"; sed 's/^/       /' "$log"; exit 1
  fi
  passed=$((passed + 1)); echo "  ok   $name: $(cat "$log")"
}

echo "== smoke: installing $(basename "$wheel")[all] and the base wheel into fresh venvs under $tmp"
t0=$SECONDS
"$PY" -m venv "$tmp/full"
"$PY" -m venv "$tmp/base"
"$tmp/full/bin/python" -m pip install -q --upgrade pip >/dev/null
"$tmp/base/bin/python" -m pip install -q --upgrade pip >/dev/null
"$tmp/full/bin/python" -m pip install -q "$wheel[all]"
"$tmp/base/bin/python" -m pip install -q "$wheel"
echo "   installed in $((SECONDS - t0)) s"

# --- the full install -----------------------------------------------------------------------
st="$tmp/full/bin/shuangtan"
work="$tmp/work"
mkdir "$work"
cd "$work"
[ -z "$(ls -A)" ]
cp "$root/examples/applications/taiyuan-pv-storage-warehouse.json" app.json
cp "$root/examples/batch/applications.jsonl" batch.jsonl
cp "$root/examples/telemetry/taiyuan-2026.csv" telemetry.csv
db="sqlite:///$work/record.db"
echo "== smoke: shuangtan[all], from an empty folder ($work)"

ok "engine is the installed package, with its bundled data" "$tmp/full/bin/python" -c '
import sys, engine, engine.resources as r
site = sys.argv[1]
assert engine.__file__.startswith(site), engine.__file__
for name in ("rules", "templates", "rule_tests"):
    assert str(r.bundled(name)).startswith(site + "/engine/bundled/"), r.bundled(name)
import engine.records.store.db as db
assert (db.MIGRATIONS / "script.py.mako").is_file() and any((db.MIGRATIONS / "versions").glob("0001_*.py"))
import importlib.resources as ir
assert ir.files("engine").joinpath("py.typed").is_file()
print(engine.__version__)
' "$("$tmp/full/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
ok "no top-level cli module installed" "$tmp/full/bin/python" -c '
import importlib.util, sys; sys.exit(importlib.util.find_spec("cli") is not None)'
ok "shuangtan --version" "$st" --version
expect "shuangtan, version"
ok "python -m engine --version" "$tmp/full/bin/python" -m engine --version
ok "check (text)" "$st" check app.json
expect "280,000.00"; expect "1,500,000.00"; expect "285.150"
ok "check --format json" "$st" check app.json --format json
"$tmp/full/bin/python" -c 'import json, sys; d = json.load(open(sys.argv[1])); assert d["application_id"]' "$log"
ok "check --telemetry" "$st" check app.json --telemetry telemetry.csv
expect "DECLARED_DIFFERS_FROM_METERED"
ok "explain --why-not" "$st" explain app.json --why-not storage_subsidy
ok "rules list" "$st" rules list
expect "storage_subsidy"
ok "rules show" "$st" rules show storage_subsidy --on 2027-01-01
ok "rules test (bundled rule tests)" "$st" rules test
expect "coverage: "
ok "rules validate" "$st" rules validate
expect "no findings"
ok "rules reforms (bundled reforms)" "$st" rules reforms
expect "remote-region-tilt"
ok "telemetry summarize" "$st" telemetry summarize telemetry.csv

ok "users add (officer)" "$st" users add wang --role officer --display-name 王芳 --db "$db"
ok "users add (reviewer)" "$st" users add zhao --role reviewer --display-name 赵敏 --db "$db"
ok "users add (enterprise)" "$st" users add qinghe --role enterprise --credit-code 91140100MA0L3K2P5R --db "$db"
ok "users list" "$st" users list --db "$db"
expect "王芳"
ok "submit (enterprise account)" "$st" submit app.json --db "$db" --by qinghe
app_id=$("$tmp/full/bin/python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["application_id"])' app.json)
ok "decide (a proposal)" "$st" decide "$app_id" --db "$db" --officer wang --opinion 建议批准
expect "awaiting confirmation"
ok "confirm" "$st" confirm "$app_id" --db "$db" --by zhao --opinion 同意
expect "in force"
ok "replay" "$st" replay "$app_id" --db "$db"
expect "identical"
ok "audit verify" "$st" audit verify --db "$db"
ok "audit log" "$st" audit log --db "$db"
ok "notice --format md" "$st" notice "$app_id" --out notices-md --format md --db "$db" --by wang
ls notices-md/*.md >/dev/null
ok "notice --format html" "$st" notice "$app_id" --out notices-html --format html --db "$db" --by wang
ls notices-html/*.html >/dev/null
# ---- PDF notice ---------------------------------------------------------------------------
# Required everywhere: the [pdf] extra brings Noto Serif SC, so no system font is needed.
ok "notice --format pdf" "$st" notice "$app_id" --out notices-pdf --format pdf --db "$db" --by wang
for f in notices-pdf/*.pdf; do
  [ "$(head -c 5 "$f")" = "%PDF-" ] || { echo "  FAIL $f is not a PDF"; exit 1; }
  "$tmp/full/bin/python" - "$f" <<'PY' || { echo "  FAIL $f does not embed the packaged Noto font"; exit 1; }
import re, sys, zlib
data = open(sys.argv[1], "rb").read()
# font names sit in the PDF's dictionaries, plain or inside compressed object streams
blob = data
for m in re.finditer(rb"stream\r?\n", data):
    try:
        blob += zlib.decompressobj().decompress(data[m.end():m.end() + 200000])
    except zlib.error:
        pass
sys.exit(0 if b"Noto" in blob else 1)
PY
done
# ---- DOCX notice (the [docx] extra): the same letter and annex, for an office to edit -----
ok "notice --format docx" "$st" notice "$app_id" --out notices-docx --format docx --db "$db" --by wang
for f in notices-docx/*.docx; do
  "$tmp/full/bin/python" - "$f" <<'PY' || { echo "  FAIL $f is not the letter and its annex"; exit 1; }
import sys, docx
text = "\n".join(p.text for p in docx.Document(sys.argv[1]).paragraphs)
sys.exit(0 if "盖章处" in text and "审查明细" in text and "行政复议" in text else 1)
PY
done
ok "notice --lang zh-en (bilingual letter)" "$st" notice "$app_id" --out notices-zh-en --lang zh-en --db "$db" --by wang
# the translation's note, in English for its reader (the letter's own note is in Chinese: a grep
# for the English words once failed on every install, checkout or wheel, before the note said both)
for f in notices-zh-en/*.zh-en.html; do
  grep -qF "English translation (for reference; the Chinese text prevails)" "$f" || { echo "  FAIL $f lacks the English note"; exit 1; }
  grep -qF "英文译本（供参考，以中文本为准）" "$f" || { echo "  FAIL $f lacks the Chinese note"; exit 1; }
done
# -------------------------------------------------------------------------------------------
ok "list" "$st" list --db "$db"
expect "$app_id"
ok "show" "$st" show "$app_id" --db "$db"
ok "export csv" "$st" export --db "$db" --out export.csv
ok "export jsonl" "$st" export --db "$db" --format jsonl

if "$tmp/full/bin/python" -c 'import psycopg2; psycopg2.connect("postgresql://postgres@127.0.0.1:5432/postgres")' 2>/dev/null; then
  pg_db="shuangtan_smoke_$$"
  "$tmp/full/bin/python" -c 'import sys, psycopg2
c = psycopg2.connect("postgresql://postgres@127.0.0.1:5432/postgres"); c.autocommit = True
c.cursor().execute(f"CREATE DATABASE \"{sys.argv[1]}\"")' "$pg_db"
  pg="postgresql://postgres@127.0.0.1:5432/$pg_db"
  ok "users add --db postgresql:// (default driver)" "$st" users add wang --role officer --db "$pg"
  ok "submit --db postgresql://" "$st" submit app.json --db "$pg" --by wang
  ok "decide --db postgresql://" "$st" decide "$app_id" --db "$pg" --by wang
  ok "list --db postgresql+psycopg2://" "$st" list --db "postgresql+psycopg2://postgres@127.0.0.1:5432/$pg_db"
  expect "$app_id"
else
  echo "  SKIP PostgreSQL: no server answers on 127.0.0.1:5432 as postgres"
fi

ok "population generate (Parquet)" "$st" population generate --n 2000 --seed 7 --out pop.parquet
ok "population generate (JSONL)" "$st" population generate --n 500 --seed 7 --out pop.jsonl
ok "evaluate JSONL (Rete)" "$st" evaluate batch.jsonl --out batch.decisions.jsonl --rejects batch.rejects.jsonl -j 1
[ -s batch.decisions.jsonl ]
ok "evaluate Parquet (columnar)" "$st" evaluate pop.parquet --out pop.decisions.parquet
[ -s pop.decisions.parquet ]
ok "evaluate-columnar" "$st" evaluate-columnar pop.jsonl --out pop.decisions.csv
ok "evaluate --reform NAME (bundled)" "$st" evaluate pop.jsonl --reform stricter-reporting --out tilt.jsonl -j 1
ok "simulate --reform NAME (bundled)" "$st" simulate --population pop.parquet --reform remote-region-tilt --out sim
[ -s sim/report.md ] && ls sim/*.png >/dev/null
ok "verify-backends" "$st" verify-backends --n 300 --seed 7
ok "simulate --cluster local (Dask)" "$st" simulate --population pop.parquet --reform tier30-0.90-from-2027 \
  --out sim-dask --cluster local --workers 1

# --- the base install -----------------------------------------------------------------------
bst="$tmp/base/bin/shuangtan"
echo "== smoke: the base wheel (no extras)"
ok "base: polars, numba, pyarrow, matplotlib, dask not installed" "$tmp/base/bin/python" -c '
import importlib.util, sys
present = [m for m in ("polars", "numba", "pyarrow", "matplotlib", "dask", "weasyprint") if importlib.util.find_spec(m)]
sys.exit(f"installed with the base wheel: {present}" if present else 0)'
ok "base: check" "$bst" check app.json
expect "280,000.00"
ok "base: explain --why-not" "$bst" explain app.json --why-not storage_subsidy
ok "base: rules list / test / validate" bash -c "'$bst' rules list && '$bst' rules test && '$bst' rules validate"
ok "base: users, submit, decide, confirm, notice (html), audit" bash -c "b=sqlite:///$work/base.db && \
  '$bst' users add wang --role officer --db \$b && '$bst' users add zhao --role reviewer --db \$b && \
  '$bst' submit app.json --db \$b --by wang && '$bst' decide $app_id --db \$b --by wang && \
  '$bst' confirm $app_id --db \$b --by zhao && '$bst' notice $app_id --out base-notices --db \$b --by wang && \
  '$bst' audit verify --db \$b"
ok "base: evaluate JSONL (Rete)" "$bst" evaluate batch.jsonl --out base.decisions.jsonl -j 1
one_line_extra "base: notice --format docx" docx "$bst" notice "$app_id" --out base-docx --format docx \
  --db "sqlite:///$work/base.db" --by wang
one_line_extra "base: population generate" columnar "$bst" population generate --n 10 --seed 1 --out p.parquet
one_line_extra "base: simulate" columnar "$bst" simulate --population pop.parquet --reform remote-region-tilt --out s
one_line_extra "base: --db postgresql://" postgres "$bst" list --db postgresql://postgres@127.0.0.1:5432/postgres

echo "smoke: $passed passed, 0 failed"
