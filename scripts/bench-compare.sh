#!/usr/bin/env bash
# bench-compare.sh runs the whole comparison of onnxrun with ONNX Runtime (issues 5 and 15) and writes
# BENCHMARKS.md: it installs ORT's C library from npm (setup-ort.sh), makes the CIFAR benchmark models if
# they are not there yet (make-bench-models.sh), builds bench/ortcompare (a nested module: it links ORT
# through cgo, which the main module never does) and runs it. Unless BIG=0, it also makes the real
# architectures of issue 15's suite (make-big-models.sh, about 10 minutes the first time), which the real
# suite and the cold-start table use.
#
# SUITE picks what runs (comma-separated; default all): cnn (issue 5's LeNet, CIFAR CNNs, SGEMM, Loop and
# the cold-start and memory tables, about 8 minutes), real (issue 15's twelve architectures at batch 1
# and 8, about 12 minutes), ops (single operators and MobileNetV2's depthwise layers, about 4 minutes), int8
# (issue 16's quantized MobileNetV2 and ResNet-50, static QDQ and dynamic, at batch 1 and 8 beside their
# float32 models, which make quant-models writes into QUANT, default $ONNXRUN_QUANT or .cache/quant, the
# first time: about 5 minutes).
# ONLY is a regexp of workload keys (ortcompare -only; e.g. 'resnet50_b1|bert'). Each row's timed rounds
# fit in ROW_TIME (default 8s): a slow model gets fewer rounds. All of it takes about 25 minutes on 2
# cores once the models exist, plus the wait for a quiet machine.
#
# Run it on a quiet machine: ortcompare waits up to WAIT_QUIET (default 3m) for the 1-minute load average to
# fall below 0.5 before it starts, and again after the run (its own threads raise the load), and writes
# BENCHMARKS.md only when both readings are below 0.5; otherwise the report goes to a file in /tmp, named
# on stderr, and the script fails. QUIET_OK=1 writes BENCHMARKS.md anyway (the report then says the
# machine was not quiet).
#
#   scripts/bench-compare.sh                       (what `make bench-compare` runs)
#   SUITE=real ONLY='yolo|unet' scripts/bench-compare.sh   (make bench-compare SUITE=real ONLY='yolo|unet')
#   scripts/bench-compare.sh -rounds 8             extra arguments go to ortcompare (see its -help)
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
quant=()
case ",${SUITE:-all}," in
*,all,* | *,int8,*)
  QUANT="${QUANT:-${ONNXRUN_QUANT:-$root/.cache/quant}}"
  [ -d "$QUANT" ] || make -C "$root" quant-models QUANT="$QUANT" >&2
  quant=(-quant-models "$QUANT")
  ;;
esac
quiet=(-wait-quiet "${WAIT_QUIET:-3m}")
select=(-suite "${SUITE:-all}" -row-time "${ROW_TIME:-8s}")
if [ -n "${ONLY:-}" ]; then
  select+=(-only "$ONLY")
fi
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
  "${big[@]}" "${quant[@]}" "${quiet[@]}" "${select[@]}" "${notes[@]}" "$@"
