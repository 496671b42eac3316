#!/usr/bin/env bash
# The dependency picture in docs/architecture.md must match what CMake links (scripts/deps-graph.sh draws it):
# a new link between parts shows up in review as a change of the picture, never silently.
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/deps-graph.sh --check
