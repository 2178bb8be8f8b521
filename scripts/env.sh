# Sourced by the scripts: Open MPI refuses to run as root without these, and oversubscribing a
# 2-core machine with 3-5 ranks is normal in tests.
export OMPI_ALLOW_RUN_AS_ROOT=1
export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
export TESSERA_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export JOBS="${JOBS:-$(nproc)}"
