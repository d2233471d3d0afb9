#!/usr/bin/env bash
# Installs ONNX Runtime's shared library for the cross-check test (crosscheck/), from npm's onnxruntime-node
# package, into a folder (default .cache/ort under the repository), and prints the library's path.
#
#   scripts/setup-ort.sh [DIR]        then: ONNXRUNTIME_LIB=$(scripts/setup-ort.sh) go test ./... (in crosscheck/)
#
# The version is pinned to the C API that github.com/yalue/onnxruntime_go (crosscheck/go.mod) was written
# against: onnxruntime_go v1.27.0 ships onnxruntime_c_api.h with ORT_API_VERSION 24, i.e. ONNX Runtime
# 1.24.1. Change both together (ORT_VERSION overrides it here). Idempotent: a folder that already holds the
# right version is left alone. npm runs with --ignore-scripts, so the package's install script (which would
# fetch GPU libraries) never runs: the CPU library is inside the package itself.
set -euo pipefail
ORT_VERSION="${ORT_VERSION:-1.24.1}"
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="${1:-$root/.cache/ort}"
lib="$dir/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1"
pkg="$dir/node_modules/onnxruntime-node/package.json"

have_version() {
  [ -f "$pkg" ] && [ -f "$lib" ] && grep -q "\"version\": \"$ORT_VERSION\"" "$pkg"
}

if ! have_version; then
  if ! command -v npm >/dev/null; then
    echo "setup-ort.sh: npm is not installed (apt-get install npm)" >&2
    exit 1
  fi
  mkdir -p "$dir"
  # --no-save --no-package-lock: only node_modules/ is written (which .gitignore covers).
  npm install --prefix "$dir" --ignore-scripts --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
    "onnxruntime-node@$ORT_VERSION" >&2
  if ! have_version; then
    echo "setup-ort.sh: npm installed onnxruntime-node but $lib (version $ORT_VERSION) is missing" >&2
    exit 1
  fi
fi
echo "$lib"
