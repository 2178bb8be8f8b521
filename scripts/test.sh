#!/usr/bin/env bash
# One command: install dependencies, then build and run every test suite tessera has.
#   bash scripts/test.sh            (what .ci/run calls)
# Stages (each its own build directory):
#   1. debug     -Werror Debug build, every test (unit, MPI at 1-4 ranks, apps, HDF5, SLURM)
#   2. asan      AddressSanitizer + UBSan build: unit tests and MPI tests at 2 ranks
#   3. tsan      ThreadSanitizer build: the threaded scheduler's tests
#   4. release   Release build: apps smoke-run and the install/consumer test
#   5. fuzz      libFuzzer targets of the wire decoders (clang), a fixed number of runs each
#   6. demo      the README's demo command (scripts/demo.sh) on the same Release build, so the
#                main demo can never land broken
# TESSERA_TEST_STAGES="debug asan" runs a subset.
set -euo pipefail
source "$(dirname "$0")/env.sh"
bash "$TESSERA_ROOT/scripts/install_deps.sh"
bash "$TESSERA_ROOT/scripts/check_layers.sh"  # the layer drawing (cmake/tessera_layers.txt), in a second

stages="${TESSERA_TEST_STAGES:-debug asan tsan release fuzz demo}"
t_start=$SECONDS
summary=()

configure_build() {  # dir, cmake args..., -- targets...
  local dir=$1; shift
  local args=() targets=()
  while (($#)) && [[ $1 != -- ]]; do args+=("$1"); shift; done
  (($#)) && shift
  targets=("$@")
  mkdir -p "$dir"
  cmake -S "$TESSERA_ROOT" -B "$dir" "${args[@]}" >"$dir/configure.log" 2>&1 || {
    cat "$dir/configure.log"; return 1; }
  if ((${#targets[@]})); then
    cmake --build "$dir" -j "$JOBS" --target "${targets[@]}"
  else
    cmake --build "$dir" -j "$JOBS"
  fi
}

run_ctest() {  # dir, ctest args...
  local dir=$1; shift
  (cd "$dir" && ctest --output-on-failure --no-tests=error -j "$JOBS" "$@")
}

for stage in $stages; do
  t0=$SECONDS
  echo "==================== stage: $stage ===================="
  case $stage in
    debug)
      configure_build "$TESSERA_ROOT/build-debug" -DCMAKE_BUILD_TYPE=Debug -DTESSERA_WERROR=ON
      run_ctest "$TESSERA_ROOT/build-debug"
      ;;
    asan)
      export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
      export LSAN_OPTIONS="suppressions=$TESSERA_ROOT/tests/support/lsan.supp:print_suppressions=0"
      export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
      configure_build "$TESSERA_ROOT/build-asan" -DCMAKE_BUILD_TYPE=Debug \
        "-DTESSERA_SANITIZE=address;undefined" -DTESSERA_BUILD_APPS=OFF
      run_ctest "$TESSERA_ROOT/build-asan" -L unit
      if [[ -n "$(cd "$TESSERA_ROOT/build-asan" && ctest -N -L mpi -R 'np2$' | grep 'Test #' || true)" ]]; then
        run_ctest "$TESSERA_ROOT/build-asan" -L mpi -R 'np2$'
      fi
      unset ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS
      ;;
    tsan)
      export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"
      configure_build "$TESSERA_ROOT/build-tsan" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DTESSERA_SANITIZE=thread -DTESSERA_BUILD_APPS=OFF -DTESSERA_ENABLE_MPI=OFF \
        -DTESSERA_TEST_SUBSET=threads -- test_scheduling test_run_book test_futures test_shuffle test_worker_client
      run_ctest "$TESSERA_ROOT/build-tsan"
      unset TSAN_OPTIONS
      ;;
    release)
      configure_build "$TESSERA_ROOT/build-release" "${TESSERA_RELEASE_ARGS[@]}"
      run_ctest "$TESSERA_ROOT/build-release" -L "release"
      ;;
    fuzz)
      bash "$TESSERA_ROOT/tests/fuzz/run_fuzz.sh" "$TESSERA_ROOT/build-fuzz" 20000
      ;;
    demo)
      bash "$TESSERA_ROOT/scripts/demo.sh"
      ;;
    *) echo "unknown stage '$stage'" >&2; exit 2 ;;
  esac
  summary+=("$stage: $((SECONDS - t0)) s")
done
echo "==================== summary ===================="
printf '%s\n' "${summary[@]}"
echo "all stages passed in $((SECONDS - t_start)) s"
