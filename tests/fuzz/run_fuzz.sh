#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (-fsanitize=fuzzer,address,undefined) and runs each
# for a fixed number of executions from the seed corpus in tests/fuzz/corpus/<target>.
#   bash tests/fuzz/run_fuzz.sh <build dir> [runs per target, default 20000]
# Any crash, sanitizer report, leak or timeout fails (the reproducer is left in <build dir>).
# The targets compile only the sources they decode with (no full clang build of tessera).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:?build dir}
runs=${2:-20000}
mkdir -p "$out"
cxx=${CXX_FUZZ:-clang++}
command -v "$cxx" >/dev/null || { echo "fuzz: $cxx not found" >&2; exit 1; }
launcher=()
command -v ccache >/dev/null && launcher=(ccache)
flags=(-std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -include "$here/source_location_shim.hpp" -I"$root/include" -I"$root/src" -I"$root/tests")
core=("$root/src/core/error.cpp")
array=("$root/src/core/config.cpp" "$root/src/core/config_runtime.cpp"
       "$root/src/collections/array/ndarray.cpp" "$root/src/collections/array/dtype.cpp"
       "$root/src/core/buffer_pool.cpp")
protocol=("$root/src/scheduling/mpi/protocol_wire.cpp" "$root/src/scheduling/mpi/protocol_tasks.cpp"
          "$root/src/scheduling/mpi/protocol_data.cpp" "$root/src/scheduling/mpi/protocol_control.cpp"
          "$root/src/scheduling/mpi/protocol_shuffle.cpp")
build() {  # target, sources...
  local t=$1; shift
  echo "fuzz: building $t"
  "${launcher[@]}" "$cxx" "${flags[@]}" "$here/$t.cpp" "$@" -lboost_serialization -o "$out/$t"
}
build fuzz_codec "${core[@]}"
build fuzz_ndarray "${core[@]}" "${array[@]}"
build fuzz_protocol "${core[@]}" "${protocol[@]}"
for t in fuzz_codec fuzz_ndarray fuzz_protocol; do
  corpus=${t#fuzz_}
  work="$out/corpus-$corpus"
  mkdir -p "$work"
  echo "fuzz: $t, $runs runs"
  (cd "$out" && "./$t" -runs="$runs" -max_len=1024 -rss_limit_mb=2048 -timeout=10 \
     -print_final_stats=1 "$work" "$here/corpus/$corpus" 2>&1 | tail -n 12)
done
echo "fuzz: all targets ran clean"
