#!/usr/bin/env bash
# Regenerates the dependency picture in docs/architecture.md from CMake: configures the tree into
# build/deps-graph with --graphviz, keeps the wattguard_* libraries (no programs, tests or external libraries)
# and writes them as a Mermaid graph between the doc's deps-graph markers. An arrow A --> B reads "A links B"
# (solid: PUBLIC, B's headers are part of A's; dotted: PRIVATE).
# `scripts/deps-graph.sh --check` changes nothing and fails when the doc's picture is out of date.
set -euo pipefail
cd "$(dirname "$0")/.."
doc=docs/architecture.md
build_dir=build/deps-graph
begin='<!-- deps-graph:begin (scripts/deps-graph.sh writes this part) -->'
end='<!-- deps-graph:end -->'
check=0
[ "${1:-}" = --check ] && check=1

grep -qF "$begin" "$doc" && grep -qF "$end" "$doc" || { echo "deps-graph: $doc lacks the markers" >&2; exit 1; }
mkdir -p "$build_dir"
cmake -S . -B "$build_dir" -G Ninja -DWATTGUARD_TESTS=ON -DWATTGUARD_BENCH=OFF \
  --graphviz="$build_dir/deps.dot" >"$build_dir/configure.log" 2>&1 ||
  { cat "$build_dir/configure.log" >&2; exit 1; }

# The graphviz file: `"node4" [ label = "wattguard_base", shape = octagon ];` declares a target (octagon: a
# static library) and `"node3" -> "node4" [ style = dotted ] // ...` a link (dotted PRIVATE, dashed INTERFACE,
# plain PUBLIC). Test-only libraries of tests/ (e2e support) are left out; test_support is a part and stays.
graph=$(awk '
  /^ *"node[0-9]+" \[ label = / {
    match($0, /"node[0-9]+"/); id = substr($0, RSTART, RLENGTH)
    match($0, /label = "[^"]*"/); name = substr($0, RSTART + 9, RLENGTH - 10)
    if (name ~ /^wattguard_/ && name !~ /e2e/ && $0 ~ /shape = (octagon|doubleoctagon|tripleoctagon|pentagon)/) {
      keep[id] = substr(name, 11)
    }
    next
  }
  /^ *"node[0-9]+" -> "node[0-9]+"/ {
    split($0, f, "\""); from = "\"" f[2] "\""; to = "\"" f[4] "\""
    if (!(from in keep) || !(to in keep) || from == to) next
    arrow = ($0 ~ /style = dotted/) ? "-.->" : "-->"
    print "  " keep[from] " " arrow " " keep[to]
    linked[from] = 1; linked[to] = 1
  }
  END { for (id in keep) if (!(id in linked)) print "  " keep[id] }
' "$build_dir/deps.dot" | sort -u)
[ -n "$graph" ] || { echo "deps-graph: no wattguard_* libraries in $build_dir/deps.dot" >&2; exit 1; }

new_doc=$(GRAPH="$graph" BEGIN_MARK="$begin" END_MARK="$end" awk '
  $0 == ENVIRON["BEGIN_MARK"] { print; print ""; print "```mermaid"; print "graph TD"; print ENVIRON["GRAPH"]; print "```"; print ""; skip = 1; next }
  $0 == ENVIRON["END_MARK"] { skip = 0 }
  !skip { print }
' "$doc")
if [ "$check" = 1 ]; then
  if [ "$new_doc" != "$(cat "$doc")" ]; then
    diff <(cat "$doc") <(printf '%s\n' "$new_doc") >&2 || true
    echo "deps-graph: the picture in $doc is out of date: run scripts/deps-graph.sh" >&2
    exit 1
  fi
  echo "deps-graph: $doc is up to date"
else
  printf '%s\n' "$new_doc" >"$doc"
  echo "deps-graph: wrote $(printf '%s\n' "$graph" | wc -l) lines of the graph into $doc"
fi
