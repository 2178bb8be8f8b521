#!/usr/bin/env bash
# Tests scripts/check_layers.sh: it passes on the real tree, and on a copy of the tree with one
# deliberately bad include it fails with a message naming the file and both layers.
# Usage: test_check_layers.sh <tessera source root>
set -uo pipefail
src="$1"
check="$src/scripts/check_layers.sh"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# 1. The real tree passes.
if out="$(bash "$check" "$src" 2>&1)"; then
  echo "real tree: $out"
else
  fail "the real tree fails the layer check:"; echo "$out"
fi

# A fresh copy of the parts the check reads, with one edit applied by the caller.
fresh() { rm -rf "$tmp/tree"; mkdir -p "$tmp/tree"; cp -r "$src/include" "$src/src" "$src/cmake" "$src/docs" "$tmp/tree/"; }
# expect_failure <what> <pattern>...: the check must fail and print every pattern (fixed strings).
expect_failure() {
  local what=$1; shift
  local out rc
  out="$(bash "$check" "$tmp/tree" 2>&1)"; rc=$?
  if ((rc == 0)); then fail "$what: the check passed"; echo "$out"; return; fi
  for p in "$@"; do
    grep -qF -- "$p" <<<"$out" || { fail "$what: message lacks '$p':"; echo "$out"; }
  done
  echo "ok: $what"
}

# 2. A lower layer including a public header of a layer above it.
fresh; echo '#include <tessera/scheduling/scheduler.hpp>' >>"$tmp/tree/src/core/hash.cpp"
expect_failure "core includes scheduling" "src/core/hash.cpp:" "layer 'core'" "layer 'scheduling'" \
  "<tessera/scheduling/scheduler.hpp>"
# The same from a public header, two layers apart (diagnostics does not use graph).
fresh; echo '#include <tessera/graph/task.hpp>' >>"$tmp/tree/include/tessera/diagnostics/observer.hpp"
expect_failure "diagnostics includes graph" "include/tessera/diagnostics/observer.hpp:" \
  "layer 'diagnostics'" "layer 'graph'"
# 3. Another layer's private src/ header.
fresh; echo '#include "scheduling/mpi/protocol.hpp"' >>"$tmp/tree/src/graph/task.cpp"
expect_failure "graph includes a private scheduling header" "src/graph/task.cpp:" "layer 'graph'" \
  "layer 'scheduling'" "src/scheduling/mpi/protocol.hpp"
# ... and a private header of its own layer from a public header.
fresh; echo '#include "transport/mpi_check.hpp"' >>"$tmp/tree/include/tessera/transport/comm.hpp"
expect_failure "public header includes a private header" "include/tessera/transport/comm.hpp:" \
  "src/transport/mpi_check.hpp"
# The known debt is allowed only because the drawing lists it.
fresh; sed -i 's/^private collections storage.*$//' "$tmp/tree/cmake/tessera_layers.txt"
expect_failure "private debt not listed" "src/collections/hdf5_common.hpp:" "layer 'collections'" \
  "layer 'storage'"
# 4. <mpi.h> / <hdf5.h> in a public header.
fresh; echo '#include <mpi.h>' >>"$tmp/tree/include/tessera/graph/task.hpp"
expect_failure "public header includes mpi.h" "include/tessera/graph/task.hpp:" "<mpi.h>"
fresh; echo '#include <hdf5.h>' >>"$tmp/tree/include/tessera/storage/spill_file.hpp"
expect_failure "public header includes hdf5.h" "include/tessera/storage/spill_file.hpp:" "<hdf5.h>"
# 5. A folder that is not a layer, and a cycle in the drawing.
fresh; mkdir "$tmp/tree/src/bag"; echo '// x' >"$tmp/tree/src/bag/bag.cpp"
expect_failure "unknown layer folder" "src/bag/" "'bag'"
fresh; sed -i 's/^core:.*$/core: futures/' "$tmp/tree/cmake/tessera_layers.txt"
expect_failure "cycle in the drawing" "layer 'core' depends on itself"
# 6. docs/ARCHITECTURE.md drawing something else than the drawing.
fresh; sed -i 's/^\(  graph -> serialization\)$/\1, diagnostics/' "$tmp/tree/docs/ARCHITECTURE.md"
expect_failure "ARCHITECTURE.md differs" "docs/ARCHITECTURE.md" "graph -> diagnostics, serialization"

if ((failures)); then echo "$failures failure(s)"; exit 1; fi
echo "all layer-check cases passed"
