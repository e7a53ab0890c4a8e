#!/usr/bin/env bash
# ./run.sh [CONFIG] [moesim run options...]
# Installs missing Debian packages, builds Release into build/, and runs the simulation of
# CONFIG (default: configs/mixtral_decode.toml, Mixtral-8x7B decode on one chip with HBM).
set -euo pipefail
cd "$(dirname "$0")"
./scripts/setup.sh
config=configs/mixtral_decode.toml
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
  config=$1
  shift
fi
exec ./build/moesim run "$config" "$@"
