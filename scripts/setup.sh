#!/usr/bin/env bash
# Installs the Debian packages moesim needs (only those missing) and configures + builds
# Release into build/. Shared by run.sh and test.sh; quick when nothing has changed.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(build-essential cmake ninja-build pkg-config libsystemc-dev verilator libfmt-dev
          libtomlplusplus-dev libgtest-dev libgmock-dev libbenchmark-dev clang-format zlib1g-dev
          libsimdjson-dev nlohmann-json3-dev
          python3 python3-numpy python3-matplotlib python3-distributed python3-dask chromium)
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

generator=()
if command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi
if [ ! -f build/CMakeCache.txt ]; then
  cmake -S . -B build "${generator[@]}" -DCMAKE_BUILD_TYPE=Release >&2
fi
jobs=$(nproc 2>/dev/null || echo 2)
cmake --build build --parallel "$jobs" >&2
