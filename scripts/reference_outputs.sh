#!/usr/bin/env bash
# Write a reference set of outputs through the public command line only, so that a refactoring can be
# checked byte for byte: run it before and after, then `diff -r BEFORE AFTER` (timings excluded).
#   scripts/reference_outputs.sh OUT_DIR [SHUANGTAN]
set -euo pipefail
out=${1:?usage: reference_outputs.sh OUT_DIR [SHUANGTAN]}
st=${2:-"$(cd "$(dirname "$0")/.." && pwd)/.venv/bin/shuangtan"}
root=$(cd "$(dirname "$0")/.." && pwd)
export SHUANGTAN_LANG=en  # Chinese by default; references are kept in English, as before
mkdir -p "$out"
cd "$out"
"$st" population generate --n 20000 --seed 7 --out pop.jsonl >/dev/null
"$st" population generate --n 20000 --seed 7 --out pop.parquet >/dev/null
"$st" population generate --n 3000 --seed 11 --year 2026 --out pop2026.csv >/dev/null
"$st" evaluate pop.jsonl --out rete.jsonl --rejects rete.rejects.jsonl -j 1 >/dev/null 2>&1
"$st" evaluate pop2026.csv --out rete2026.jsonl --rejects rete2026.rejects.jsonl -j 2 >/dev/null 2>&1
"$st" evaluate "$root/examples/batch/applications.csv" --out batch.jsonl --rejects batch.rejects.jsonl -j 1 >/dev/null 2>&1
"$st" evaluate pop.parquet --out columnar.parquet >/dev/null 2>&1
"$st" evaluate pop.jsonl --backend columnar --out columnar.csv >/dev/null 2>&1
"$st" evaluate pop.jsonl --reform "$root/rules/reforms/remote-region-tilt.yaml" --out tilt.jsonl -j 1 >/dev/null 2>&1
"$st" simulate --population pop.parquet --reform "$root/rules/reforms/remote-region-tilt.yaml" --out sim >/dev/null 2>&1
"$st" simulate --population pop.jsonl --reform "$root/rules/reforms/tier30-0.90-from-2027.yaml" --out sim2 >/dev/null 2>&1
for f in "$root"/examples/applications/*.json; do
  "$st" check "$f" --format json > "check-$(basename "$f" .json).json" || true
  "$st" check "$f" > "check-$(basename "$f" .json).txt" || true
  "$st" explain "$f" --why-not storage_subsidy > "explain-$(basename "$f" .json).txt" 2>&1 || true
done
"$st" check "$root/examples/applications/taiyuan-pv-storage-warehouse.json" \
  --telemetry "$root/examples/telemetry/taiyuan-2026.csv" --format json > check-metered.json
"$st" telemetry summarize "$root/examples/telemetry/taiyuan-2026.csv" --format json > telemetry.json
"$st" verify-backends --n 20000 --seed 7 > verify.txt 2>&1 || true
"$st" rules list > rules-list.txt
"$st" rules show storage_subsidy --on 2027-01-01 > rules-show.txt
"$st" rules validate > rules-validate.txt 2>&1 || true
# timings and absolute paths are not part of what must stay identical
for f in sim/report.md sim2/report.md sim/summary.json sim2/summary.json verify.txt; do
  [ -f "$f" ] && sed -i -E 's/[0-9]+\.[0-9]+ ?s\b/<t>s/g; s/"(seconds|baseline|reform|compare)": [0-9]+\.[0-9]+/"\1": <t>/g' "$f"
done
sha256sum $(find . -type f ! -name '*.png' | sort) > ../"$(basename "$out")".sha256
