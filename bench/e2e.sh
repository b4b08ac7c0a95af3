#!/usr/bin/env bash
# End-to-end benchmark: cnnops against cp, cat | cat and the NumPy one-liner
# on float32 inputs generated at run time (never committed), runs
# alternated, medians and ratios printed; peak memory of cnnops through a
# file and through a pipe.
#
# Usage: bench/e2e.sh [RUNS] [SIZES_MIB...]      (default: 7 runs, 1024 100)
# Work files go to $CNNOPS_BENCH_DIR (default: $TMPDIR or /tmp, subfolder
# cnnops-bench) and are removed at the end; 1 GiB needs about 5 GiB free.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-7}"
shift || true
SIZES=("${@:-1024 100}")
read -r -a SIZES <<< "${SIZES[*]}"

if ! python3 -c 'import numpy' 2>/dev/null; then
    python3 -m pip install --quiet numpy
fi
cargo build --release --locked --quiet
# The binary cargo just built, wherever CARGO_TARGET_DIR or a cargo config
# puts the target directory.
TARGET="$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
WORK="${CNNOPS_BENCH_DIR:-${TMPDIR:-/tmp}/cnnops-bench}"
mkdir -p "$WORK"
trap 'rm -rf "$WORK"' EXIT
python3 bench/e2e.py "$TARGET/release/cnnops" "$WORK" "$RUNS" "${SIZES[@]}"
