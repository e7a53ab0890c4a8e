# Sourced by scripts/fuzz.sh and scripts/sanitize.sh: need_packages PKG... installs the Debian
# packages of the list that are missing (as scripts/setup.sh does for the main build).
need_packages() {
  local missing=() p
  for p in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$p")
    fi
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "$(basename "$0"): installing ${missing[*]}" >&2
    local sudo_cmd=()
    if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
    export DEBIAN_FRONTEND=noninteractive
    "${sudo_cmd[@]}" apt-get update -qq
    "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  fi
}

# The main build's packages (keep in step with scripts/setup.sh).
moesim_build_packages=(build-essential cmake ninja-build pkg-config libsystemc-dev verilator
                       libfmt-dev libtomlplusplus-dev libgtest-dev libgmock-dev libbenchmark-dev
                       libsimdjson-dev nlohmann-json3-dev
                       python3 python3-numpy python3-matplotlib python3-distributed python3-dask
                       chromium)
