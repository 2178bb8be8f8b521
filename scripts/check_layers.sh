#!/usr/bin/env bash
# The layer check: fails when a file in include/ or src/ breaks the layer drawing of
# cmake/tessera_layers.txt. It fails on
#   - an include of a public header (<tessera/L/...>) of a layer that is not below the file's own
#     layer (directly or through the layers it uses), or of the umbrella <tessera/tessera.hpp>;
#   - an include of another layer's private src/ header (unless the drawing lists it as a debt
#     with "private A B"), and any private src/ header included by a public header;
#   - <mpi.h> or <hdf5.h> (or an <H5*.h>) in a public header;
#   - a folder of include/tessera/ or src/ that is not a layer of the drawing, or a cycle in it;
#   - a drawing in docs/ARCHITECTURE.md ("layer -> a, b") that differs from the drawing.
# Usage: scripts/check_layers.sh [ROOT]   (ROOT: a tessera tree, default this checkout)
# Prints one line per violation, "file:line: ...", and exits 1 if there is any; 0 otherwise.
# Run by scripts/test.sh before the build and by ctest (tests/layers).
set -euo pipefail
root="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
exec python3 - "$root" <<'PY'
import os
import re
import sys

root = sys.argv[1]
drawing = os.path.join(root, "cmake", "tessera_layers.txt")
errors = []
deps = {}            # layer -> layers it uses directly
private_ok = set()   # (layer, other): layer may include other's private headers
private_used = set()

with open(drawing) as f:
    for n, raw in enumerate(f, 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("private "):
            words = line.split()
            if len(words) != 3:
                errors.append(f"{drawing}:{n}: expected 'private <layer> <other layer>'")
                continue
            private_ok.add((words[1], words[2]))
            continue
        name, sep, rest = line.partition(":")
        if not sep:
            errors.append(f"{drawing}:{n}: expected '<layer>: <layers it uses>'")
            continue
        deps[name.strip()] = rest.split()
for layer, uses in deps.items():
    for u in uses:
        if u not in deps:
            errors.append(f"{drawing}: layer '{layer}' uses '{u}', which is not a layer")
for a, b in private_ok:
    if a not in deps or b not in deps:
        errors.append(f"{drawing}: 'private {a} {b}' names a layer that does not exist")

def below(layer):
    seen, todo = set(), list(deps.get(layer, []))
    while todo:
        x = todo.pop()
        if x not in seen and x in deps:
            seen.add(x)
            todo.extend(deps[x])
    return seen

allowed = {layer: below(layer) for layer in deps}
for layer in deps:
    if layer in allowed[layer]:
        errors.append(f"{drawing}: layer '{layer}' depends on itself (a cycle)")

# docs/ARCHITECTURE.md draws the same layers: its first code block after "## The layers" must
# say "layer -> a, b" for every layer that uses others, with the same layers as the drawing.
doc = os.path.join(root, "docs", "ARCHITECTURE.md")
if os.path.exists(doc):
    text = open(doc).read()
    m = re.search(r"^## The layers\n.*?^```\n(.*?)^```", text, re.S | re.M)
    if not m:
        errors.append("docs/ARCHITECTURE.md: no code block drawing the layers after '## The layers'")
    else:
        block = m.group(1)
        drawn = {}
        for name, uses in re.findall(r"([a-z_]+) -> ([a-z_]+(?:, [a-z_]+)*)", block):
            drawn[name] = set(uses.split(", "))
        for layer, uses in deps.items():
            if uses and drawn.get(layer) != set(uses):
                shown = ", ".join(sorted(drawn[layer])) if layer in drawn else "nothing"
                errors.append(f"docs/ARCHITECTURE.md: the drawing has '{layer} -> {shown}', "
                              f"cmake/tessera_layers.txt has '{layer}: {' '.join(uses)}'")
            if not uses and not re.search(rf"\b{layer}\b", block):
                errors.append(f"docs/ARCHITECTURE.md: the drawing lacks layer '{layer}'")
        for layer in drawn:
            if layer not in deps:
                errors.append(f"docs/ARCHITECTURE.md: the drawing has '{layer}', which is not a layer "
                              f"of cmake/tessera_layers.txt")

def may_use(layer):
    names = sorted(allowed[layer])
    return ", ".join(names) if names else "no other layer"

include_re = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
forbidden_public = re.compile(r"^(mpi\.h|mpi-ext\.h|mpif\.h|hdf5\.h|hdf5_hl\.h|H5[A-Za-z0-9_]*\.h)$")
sources = (".hpp", ".h", ".hh", ".hxx", ".cpp", ".cc", ".cxx", ".ipp", ".tpp", ".inl")

def files_of(top):
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames.sort()
        for name in sorted(filenames):
            if name.endswith(sources):
                yield os.path.join(dirpath, name)

checked = 0
pub_top = os.path.join(root, "include", "tessera")
src_top = os.path.join(root, "src")
work = []
for top, public in ((pub_top, True), (src_top, False)):
    if not os.path.isdir(top):
        continue
    for path in files_of(top):
        rel = os.path.relpath(path, top)
        parts = rel.split(os.sep)
        if len(parts) == 1:
            layer = None  # include/tessera/tessera.hpp: the umbrella; src/<file>: no layer
            if not public:
                continue
        else:
            layer = parts[0]
            if layer not in deps:
                shown = os.path.relpath(os.path.join(top, parts[0]), root)
                errors.append(f"{shown}/: folder '{layer}' is not a layer of cmake/tessera_layers.txt")
                continue
        work.append((path, public, layer))

for path, public, layer in work:
    checked += 1
    shown = os.path.relpath(path, root)
    who = f"layer '{layer}'" if layer else "the umbrella header"
    with open(path, errors="replace") as f:
        lines = f.readlines()
    for n, text in enumerate(lines, 1):
        m = include_re.match(text)
        if not m:
            continue
        quote, inc = m.group(1), m.group(2).strip()
        where = f"{shown}:{n}"
        if public and not inc.startswith("tessera/") and forbidden_public.match(os.path.basename(inc)):
            errors.append(f"{where}: public header ({who}) includes <{inc}>: MPI and HDF5 stay in src/")
            continue
        if inc.startswith("tessera/"):
            bits = inc.split("/")
            if len(bits) == 2:
                if layer is not None:
                    errors.append(f"{where}: {who} includes the umbrella header <{inc}>, "
                                  f"which includes every layer; include the headers it needs")
                continue
            target = bits[1]
            if target not in deps:
                errors.append(f"{where}: {who} includes <{inc}>: '{target}' is not a layer")
                continue
            if layer is None or target == layer or target in allowed[layer]:
                continue
            errors.append(f"{where}: {who} includes <{inc}> of layer '{target}', which is not "
                          f"below it ({layer} may use: {may_use(layer)})")
            continue
        # A header next to the including file ("x.hpp") belongs to the same layer.
        if quote == '"' and os.path.exists(os.path.join(os.path.dirname(path), inc)):
            continue
        first = inc.split("/")[0]
        if first in deps and os.path.exists(os.path.join(src_top, inc)):
            if public:
                errors.append(f"{where}: public header ({who}) includes src/{inc}, a private "
                              f"header of layer '{first}'")
            elif first != layer:
                if (layer, first) in private_ok:
                    private_used.add((layer, first))
                    continue
                errors.append(f"{where}: layer '{layer}' includes src/{inc}, a private header of "
                              f"layer '{first}' (private headers are for their own layer)")

for a, b in sorted(private_ok - private_used):
    print(f"check_layers: note: 'private {a} {b}' in cmake/tessera_layers.txt is no longer used; "
          f"remove it", file=sys.stderr)
for e in errors:
    print(e, file=sys.stderr)
if errors:
    print(f"check_layers: {len(errors)} violation(s) of the layer drawing (cmake/tessera_layers.txt)",
          file=sys.stderr)
    sys.exit(1)
print(f"check_layers: ok ({checked} files, {len(deps)} layers)")
PY
