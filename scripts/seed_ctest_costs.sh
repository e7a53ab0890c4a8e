#!/usr/bin/env bash
# scripts/seed_ctest_costs.sh SUITE BUILD_DIR
# Gives a build without test history the measured costs of its longest tests
# (tests/ctest_costs/SUITE.txt), so ctest --parallel starts them first instead of in test order,
# where a long test started last makes the whole run wait for it. A build that has run its tests
# keeps its own history: ctest updates it after every run.
set -euo pipefail
cd "$(dirname "$0")/.."
suite=$1
dir=$2
src=tests/ctest_costs/$suite.txt
dst=$dir/Testing/Temporary/CTestCostData.txt
if [ ! -f "$src" ]; then
  echo "seed_ctest_costs.sh: no cost file $src" >&2
  exit 2
fi
if [ ! -f "$dst" ]; then
  mkdir -p "$(dirname "$dst")"
  { grep -v '^#' "$src"; echo '---'; } >"$dst"
fi
