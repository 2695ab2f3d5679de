#!/usr/bin/env bash
# Builds KenLM's estimation tools (lmplz, build_binary, query) from the kenlm source distribution
# on PyPI (the PyPI package itself only queries models) and copies them into BIN_DIR.
# Needs cmake, a C++ compiler and Boost (scripts/setup.sh and the Dockerfile install them).
# Usage: scripts/build_kenlm.sh BIN_DIR [PYTHON]
set -euo pipefail
bin_dir="$1"
python="${2:-python3}"
build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT
"$python" -m pip download -q --disable-pip-version-check --no-binary kenlm --no-deps -d "$build" kenlm==0.3.0
tar xzf "$build"/kenlm-0.3.0.tar.gz -C "$build"
cmake -S "$build/kenlm-0.3.0" -B "$build/kenlm-0.3.0/build" -DCMAKE_BUILD_TYPE=Release >"$build/log" 2>&1 \
  || { cat "$build/log"; exit 1; }
make -s -C "$build/kenlm-0.3.0/build" -j"$(nproc)" lmplz build_binary query >>"$build/log" 2>&1 \
  || { cat "$build/log"; exit 1; }
mkdir -p "$bin_dir"
cp "$build"/kenlm-0.3.0/build/bin/{lmplz,build_binary,query} "$bin_dir/"
