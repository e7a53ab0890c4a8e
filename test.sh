#!/usr/bin/env bash
# ./test.sh [ctest options...]
# Installs missing Debian packages, builds, and runs every test (ctest).
set -euo pipefail
cd "$(dirname "$0")"
./scripts/setup.sh
./scripts/seed_ctest_costs.sh main build
cd build
exec ctest --output-on-failure --parallel "$(nproc 2>/dev/null || echo 2)" "$@"
