#!/usr/bin/env bash
# Installs tessera's build, test and benchmark dependencies from Debian's packages.
# Runs apt-get as root, or through sudo. Safe to run again: installs only what is missing.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git ca-certificates
  libopenmpi-dev openmpi-bin                      # MPI
  libboost-serialization-dev                      # Boost.Serialization
  libhdf5-openmpi-dev hdf5-tools                  # parallel HDF5 + h5dump
  doctest-dev                                     # tests
  clang                                           # libFuzzer targets (tests/fuzz)
  libopenblas-dev                                 # BLAS for matmul
  zlib1g-dev libzstd-dev nlohmann-json3-dev       # bag and dataframe: .gz/.zst input, JSON lines
  libsimdjson-dev                                 # bag: read_json's parser (into nlohmann's Json)
  graphviz                                        # drawing task graphs (dot)
  python3 python3-numpy python3-h5py              # HDF5 files written by h5py in tests
  python3-pandas                                  # the DataFrame tests' data and oracle
  slurm-wlm munge procps iproute2                 # a real local SLURM for the job-script tests
)
if [[ "${TESSERA_WITH_BENCH_DEPS:-0}" == 1 ]]; then
  packages+=(python3-dask python3-distributed python3-pandas)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install_deps: all ${#packages[@]} packages present"
  exit 0
fi
SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install_deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi
echo "install_deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
