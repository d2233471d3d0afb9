#!/usr/bin/env bash
# bench-compare.sh runs the whole comparison of onnxrun with ONNX Runtime (issue 5) and writes BENCHMARKS.md:
# it installs ORT's C library from npm (setup-ort.sh), makes the CIFAR benchmark models if they are not there
# yet (make-bench-models.sh), builds bench/ortcompare (a nested module: it links ORT through cgo, which the
# main module never does) and runs it. Unless BIG=0, it also makes ResNet-50, the BERT-base encoder and
# ViT-B/16 (make-big-models.sh, several minutes the first time) for the cold-start table. About 8 minutes on
# 2 cores once the models exist, plus the wait for a quiet machine.
#
# Run it on a quiet machine: ortcompare waits up to WAIT_QUIET (default 3m) for the 1-minute load average to
# fall below 0.5 before it starts, and again after the run (its own threads raise the load), and writes
# BENCHMARKS.md only when both readings are below 0.5; otherwise the report goes to a file in /tmp, named
# on stderr, and the script fails. QUIET_OK=1 writes BENCHMARKS.md anyway (the report then says the
# machine was not quiet).
#
#   scripts/bench-compare.sh                       (what `make bench-compare` runs)
#   scripts/bench-compare.sh -only 'vgg|resnet'    extra arguments go to ortcompare (see its -help)
#   OUT=/tmp/b.md scripts/bench-compare.sh         write the report elsewhere
#   QUIET_OK=1 BIG=0 WAIT_QUIET=0s scripts/bench-compare.sh   a check on a busy machine
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
SHARED="${ONNXRUN_SHARED:-${SHARED:-$root/../shared}}"
OUT="${OUT:-$root/BENCHMARKS.md}"
export SHARED

# The issue's bar is ONNX Runtime 1.30. onnxruntime_go v1.27.0 asks the library for C API 24, which 1.30
# still serves (ORT keeps every older API version), so the binding works with it.
lib="$(ORT_VERSION="${ORT_VERSION:-1.30.0}" "$root/scripts/setup-ort.sh")"
models="$("$root/scripts/make-bench-models.sh")"
big=()
if [ "${BIG:-1}" != 0 ]; then
  big=(-big-models "$("$root/scripts/make-big-models.sh")")
fi
quiet=(-wait-quiet "${WAIT_QUIET:-3m}")
if [ "${QUIET_OK:-0}" = 1 ]; then
  quiet+=(-force)
fi

bin="$root/.cache/bin/ortcompare"
mkdir -p "$(dirname "$bin")"
(cd "$root/bench/ortcompare" && CGO_ENABLED=1 go build -o "$bin" .)

notes=()
if [ -e "$root/bench/ortcompare/NOTES.md" ]; then
  notes=(-notes "$root/bench/ortcompare/NOTES.md")
fi
"$bin" -ort-lib "$lib" -shared "$SHARED" -models "$models" -repo "$root" -out "$OUT" -command "make bench-compare" \
  "${big[@]}" "${quiet[@]}" "${notes[@]}" "$@"
