#!/usr/bin/env bash
# Installs ONNX Runtime's shared library for the cross-check test (crosscheck/), from npm's onnxruntime-node
# package, into a folder (default .cache/ort under the repository), and prints the library's path.
#
#   scripts/setup-ort.sh [DIR]        then: ONNXRUNTIME_LIB=$(scripts/setup-ort.sh) go test ./... (in crosscheck/)
#
# The version is ONNX Runtime 1.30.0, the release the project compares itself with. The Go binding
# (github.com/yalue/onnxruntime_go v1.27.0 in crosscheck/ and bench/ortcompare/) asks for C API version 24,
# which 1.30 still serves (ORT keeps older API versions). ORT_VERSION overrides it. Idempotent: a folder that already holds the
# right version is left alone. npm runs with --ignore-scripts, so the package's install script (which would
# fetch GPU libraries) never runs: the CPU library is inside the package itself.
set -euo pipefail
ORT_VERSION="${ORT_VERSION:-1.30.0}"
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
