#!/usr/bin/env bash
# bench-memory.sh makes issue 20's memory table: onnxrun and ONNX Runtime, each model loaded and run once
# at 1 thread in fresh processes (COLD_RUNS per runtime per model, default 5, medians), each runtime's peak
# resident size above its own peak on the shipped LeNet, the ratio and its target, and onnxrun's load
# peak above its steady state against the model file's size. It installs ORT (setup-ort.sh), makes the
# CIFAR models and, unless BIG=0, the real architectures (make-big-models.sh) on first use, builds
# bench/ortcompare and runs it with -memory-table. The table goes to OUT (default
# .cache/bench-memory.md), for the lead to splice into BENCHMARKS.md; take it on a quiet machine.
#
# SUITE is cnn, real or both (default cnn,real); ONLY a regexp of the rows' keys (lenet_b1, vgg_b8,
# resnet18_b1, resnet50_b8, bert_b1, bert_shared_b1, vit_b8, ...; a MODELS file's key is its base name);
# MODELS further .onnx files, space-separated (their inputs from BASE_in_B.npy beside them, else their
# declared shapes with the batch first).
#
#   make bench-memory                                     (this script)
#   make bench-memory SUITE=real ONLY='bert' OUT=/tmp/memory.md
#   MODELS=.cache/big-models/bert_base_shared.onnx BIG=0 SUITE=cnn scripts/bench-memory.sh
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
SHARED="${ONNXRUN_SHARED:-${SHARED:-$root/../shared}}"
OUT="${OUT:-$root/.cache/bench-memory.md}"
export SHARED

lib="$(ORT_VERSION="${ORT_VERSION:-1.30.0}" "$root/scripts/setup-ort.sh")"
models="$("$root/scripts/make-bench-models.sh")"
args=(-memory-table -suite "${SUITE:-cnn,real}" -cold-runs "${COLD_RUNS:-5}")
if [ "${BIG:-1}" != 0 ]; then
  args+=(-big-models "$("$root/scripts/make-big-models.sh")")
fi
if [ -n "${ONLY:-}" ]; then
  args+=(-only "$ONLY")
fi
for m in ${MODELS:-}; do
  args+=(-memory-model "$(cd "$(dirname "$m")" && pwd)/$(basename "$m")")
done

bin="$root/.cache/bin/ortcompare"
mkdir -p "$(dirname "$bin")" "$(dirname "$OUT")"
(cd "$root/bench/ortcompare" && CGO_ENABLED=1 go build -o "$bin" .)
"$bin" -ort-lib "$lib" -shared "$SHARED" -models "$models" -repo "$root" -out "$OUT" -command "make bench-memory" "${args[@]}" "$@"
echo "bench-memory: the table is in $OUT" >&2
