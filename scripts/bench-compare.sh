#!/usr/bin/env bash
# bench-compare.sh runs the whole comparison of onnxrun with ONNX Runtime (issue 5) and writes BENCHMARKS.md:
# it installs ORT's C library from npm (setup-ort.sh), makes the CIFAR benchmark models if they are not there
# yet (make-bench-models.sh), builds bench/ortcompare (a nested module: it links ORT through cgo, which the
# main module never does) and runs it. About 3 minutes on 2 cores once the models exist. Run it on a quiet
# machine: the figures are only as steady as the CPU they get.
#
#   scripts/bench-compare.sh                       (what `make bench-compare` runs)
#   scripts/bench-compare.sh -only 'vgg|resnet'    extra arguments go to ortcompare (see its -help)
#   OUT=/tmp/b.md scripts/bench-compare.sh         write the report elsewhere
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
SHARED="${ONNXRUN_SHARED:-${SHARED:-$root/../shared}}"
OUT="${OUT:-$root/BENCHMARKS.md}"
export SHARED

# The issue's bar is ONNX Runtime 1.30. onnxruntime_go v1.27.0 asks the library for C API 24, which 1.30
# still serves (ORT keeps every older API version), so the binding works with it.
lib="$(ORT_VERSION="${ORT_VERSION:-1.30.0}" "$root/scripts/setup-ort.sh")"
models="$("$root/scripts/make-bench-models.sh")"

bin="$root/.cache/bin/ortcompare"
mkdir -p "$(dirname "$bin")"
(cd "$root/bench/ortcompare" && CGO_ENABLED=1 go build -o "$bin" .)

notes=()
if [ -e "$root/bench/ortcompare/NOTES.md" ]; then
  notes=(-notes "$root/bench/ortcompare/NOTES.md")
fi
"$bin" -ort-lib "$lib" -shared "$SHARED" -models "$models" -out "$OUT" -command "make bench-compare" "${notes[@]}" "$@"
