#!/usr/bin/env bash
# check_layers — the architecture rule, checked on the source tree (no build needed).
#
#  1. Layers. Every `#include "dir/file.h"` in a .c/.h file outside tests/, bench/, static/ and
#     build/ must point down or into its own folder, never up or sideways. From top to bottom:
#        server/, cli/    front ends (cli/ may include server/ only in cli/cmd_serve.c, for the
#                         HTTP server start-up API)
#        core/
#        db/, quantum/, ingest/, model/   db may include ingest/ and model/; quantum and ingest
#                         may include model/; model includes none of the others
#        base/            includes nothing from the other folders
#  2. No include cycles in the file-level include graph (within one folder too); each is printed.
#  3. Size: no .c/.h file outside tests/, static/vendor/ and build/ over 800 lines, and no function
#     body over 100 lines. A function body is a `{` alone at column 0 up to the next `}` at column
#     0, as clang-format lays functions out here; its length is the lines between the two.
#
# Usage: tests/deploy/check_layers.sh     (from anywhere; `make check-layers`)
# Prints one line per violation (file:line: ...) and exits 1, or a one-line summary and exits 0.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec python3 - <<'EOF'
import os, re, sys

MAX_FILE_LINES, MAX_FUNC_LINES = 800, 100
# folder -> folders it may include besides itself
MAY_INCLUDE = {
    "server": {"core", "db", "quantum", "ingest", "model", "base"},
    "cli": {"core", "db", "quantum", "ingest", "model", "base"},
    "core": {"db", "quantum", "ingest", "model", "base"},
    "db": {"ingest", "model", "base"},
    "quantum": {"model", "base"},
    "ingest": {"model", "base"},
    "model": {"base"},
    "base": set(),
}
EXCEPTIONS = {("cli/cmd_serve.c", "server")}  # (file, folder it may include too)
INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')

def sources(skip):
    for top, dirs, files in os.walk("."):
        top = os.path.relpath(top)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".")
                         and os.path.normpath(os.path.join(top, d)) not in skip)
        for f in sorted(files):
            if f.endswith((".c", ".h")):
                yield os.path.normpath(os.path.join(top, f))

problems = []
graph = {}  # file -> [(included file, line)]
n_includes = 0
for path in sources({"tests", "bench", "static", "build"}):
    folder = path.split("/")[0] if "/" in path else ""
    graph[path] = []
    with open(path, errors="replace") as fh:
        for no, line in enumerate(fh, 1):
            m = INCLUDE.match(line)
            if not m:
                continue
            n_includes += 1
            name = m.group(1)
            beside = os.path.normpath(os.path.join(os.path.dirname(path), name))
            target = beside if os.path.exists(beside) else os.path.normpath(name)
            graph[path].append((target, no))
            to = target.split("/")[0] if "/" in target else ""
            if to == folder or to in MAY_INCLUDE.get(folder, ()) or (path, to) in EXCEPTIONS:
                continue
            if folder not in MAY_INCLUDE:
                why = f"{folder or '.'}/ is in no layer"
            elif to not in MAY_INCLUDE:
                why = f"{to or '.'}/ is in no layer"
            else:
                why = f"{folder}/ may not include {to}/"
            problems.append(f'{path}:{no}: includes "{name}": {why}')

# cycles: depth-first search; an edge back to a file on the current path closes a cycle
seen_cycles, state, stack = set(), {}, []
def visit(f):
    state[f] = "open"
    stack.append(f)
    for g, no in graph.get(f, ()):
        if state.get(g) == "open":
            cycle = stack[stack.index(g):]
            key = frozenset(cycle)
            if key not in seen_cycles:
                seen_cycles.add(key)
                problems.append(f"{f}:{no}: include cycle: " + " -> ".join(cycle + [g]))
        elif g in graph and g not in state:
            visit(g)
    stack.pop()
    state[f] = "done"
sys.setrecursionlimit(10000)
for f in graph:
    if f not in state:
        visit(f)

# sizes
n_sized = 0
for path in sources({"tests", "static/vendor", "build"}):
    n_sized += 1
    with open(path, errors="replace") as fh:
        lines = fh.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if len(lines) > MAX_FILE_LINES:
        problems.append(f"{path}: {len(lines)} lines (over {MAX_FILE_LINES})")
    start = None
    for i, line in enumerate(lines):
        if line.rstrip() == "{":
            start = i
        elif start is not None and line.startswith("}"):
            body = i - start - 1
            if body > MAX_FUNC_LINES:
                j = start - 1  # the signature starts at the nearest line above at column 0
                while j > 0 and (lines[j][:1].isspace() or lines[j] == ""):
                    j -= 1
                m = re.search(r"(\w+)\s*\(", " ".join(lines[j:start]))
                name = m.group(1) if m else "?"
                problems.append(f"{path}:{j + 1}: function {name}: {body} lines"
                                f" (over {MAX_FUNC_LINES})")
            start = None

for p in problems:
    print(p)
if problems:
    print(f"check-layers: {len(problems)} problem(s)", file=sys.stderr)
    sys.exit(1)
print(f"check-layers: ok ({len(graph)} files, {n_includes} includes, no cycles;"
      f" {n_sized} files within {MAX_FILE_LINES} lines and functions within {MAX_FUNC_LINES})")
EOF
