#!/usr/bin/env bash
# Installs onnxruntime-web (ONNX Runtime compiled to WebAssembly, as web pages use it) from npm into a folder
# (default .cache/ort-web under the repository) for `make wasm-bench`, and prints the folder holding
# ort.min.js and its .wasm files.
#
#   scripts/setup-ort-web.sh [DIR]
#
# The version is 1.30.0, the ONNX Runtime release the native comparisons use (scripts/setup-ort.sh);
# ORT_WEB_VERSION overrides it. Idempotent: a folder that already holds that version is left alone. npm runs
# with --ignore-scripts: the package's files are all the page needs.
set -euo pipefail
ORT_WEB_VERSION="${ORT_WEB_VERSION:-1.30.0}"
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="${1:-$root/.cache/ort-web}"
dist="$dir/node_modules/onnxruntime-web/dist"
pkg="$dir/node_modules/onnxruntime-web/package.json"

have_version() {
  [ -f "$pkg" ] && [ -f "$dist/ort.min.js" ] && grep -q "\"version\": \"$ORT_WEB_VERSION\"" "$pkg"
}

if ! have_version; then
  if ! command -v npm >/dev/null; then
    echo "setup-ort-web.sh: npm is not installed (apt-get install npm)" >&2
    exit 1
  fi
  mkdir -p "$dir"
  # --no-save --no-package-lock: only node_modules/ is written (which .gitignore covers).
  npm install --prefix "$dir" --ignore-scripts --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
    "onnxruntime-web@$ORT_WEB_VERSION" >&2
  if ! have_version; then
    echo "setup-ort-web.sh: npm installed onnxruntime-web but $dist/ort.min.js (version $ORT_WEB_VERSION) is missing" >&2
    exit 1
  fi
fi
echo "$dist"
