# Sourced by the scripts: Open MPI refuses to run as root without these, and oversubscribing a
# 2-core machine with 3-5 ranks is normal in tests.
export OMPI_ALLOW_RUN_AS_ROOT=1
export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
export TESSERA_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export JOBS="${JOBS:-$(nproc)}"
# The one Release configuration: demo.sh and test.sh's release stage share build-release, so both
# set every option the same way (run in either order, the cache never conflicts).
TESSERA_RELEASE_ARGS=(-DCMAKE_BUILD_TYPE=Release -DTESSERA_BUILD_TESTS=ON -DTESSERA_BUILD_APPS=ON
                      -DTESSERA_BUILD_BENCH=OFF -DTESSERA_WERROR=OFF -DTESSERA_SANITIZE=
                      -DTESSERA_ENABLE_MPI=ON -DTESSERA_ENABLE_HDF5=ON -DTESSERA_TEST_SUBSET=release)
