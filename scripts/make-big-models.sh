#!/usr/bin/env bash
# make-big-models.sh exports the real-architecture models of bench-compare's suite (issue 15) and of its
# cold-start table (issue 13), with random weights and their inputs, into .cache/big-models, which git
# ignores (about 2.5 GB: BERT and the GPT-2 step are 340 MB each; nothing of it may be committed):
# ResNet-50, MobileNetV2, EfficientNet-B0, SqueezeNet 1.1, ViT-B/16 and the BERT-base encoder by
# ../shared/tools/make_big_models.py, then MobileNetV3-Large, ShuffleNetV2, DeepLabV3-MobileNetV3, a
# YOLO-style detector, a U-Net, a GPT-2-small decoder step and the BERT-base encoder with shared weights by scripts/export_bench_suite.py (Debian's
# python3-torch and python3-torchvision). About 10 minutes on 2 cores the first time. Idempotent: a model
# already there is not made again.
#
#   scripts/make-big-models.sh              prints the folder on stdout
#   BIG_MODELS_DIR=/some/dir SHARED=/path/to/shared scripts/make-big-models.sh
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
SHARED="${SHARED:-$root/../shared}"
BIG_MODELS_DIR="${BIG_MODELS_DIR:-$root/.cache/big-models}"
PYTHON="${PYTHON:-/usr/bin/python3}" # Debian's python, where python3-torch installs

tool="$SHARED/tools/make_big_models.py"
if [ ! -e "$tool" ]; then
  echo "make-big-models.sh: $tool is missing: ../shared must sit beside the repository (or set SHARED)" >&2
  exit 1
fi
if ! "$PYTHON" -c 'import torch, torchvision, onnx' 2>/dev/null; then
  echo "make-big-models.sh: $PYTHON cannot import torch, torchvision and onnx: apt-get install -y python3-torch python3-torchvision python3-onnx" >&2
  exit 1
fi
mkdir -p "$BIG_MODELS_DIR"
if [ "$(dirname "$BIG_MODELS_DIR")" = "$root/.cache" ] && [ ! -e "$root/.cache/.gitignore" ]; then
  printf '*\n' >"$root/.cache/.gitignore"
fi
# missing NAME...: the names among NAME... whose model or batch-8 input is not in $BIG_MODELS_DIR yet. A
# model whose last export failed (its manifest line has an error) is not tried again on every bench-compare:
# delete that line (or set RETRY=1) to retry it.
missing() {
  local last
  for name in "$@"; do
    if [ "$name" = bert_base_enc ] && [ -e "$BIG_MODELS_DIR/bert_base_enc_manual.onnx" ]; then continue; fi
    [ -e "$BIG_MODELS_DIR/$name.onnx" ] && [ -e "$BIG_MODELS_DIR/${name}_in_8.npy" ] && continue
    last="$(grep -F "{\"name\": \"$name\"," "$BIG_MODELS_DIR/manifest.jsonl" 2>/dev/null | tail -1 || true)"
    if [ "${RETRY:-0}" != 1 ] && [[ "$last" == *'"error": '* ]]; then
      echo "make-big-models.sh: $name failed to export before (see $BIG_MODELS_DIR/manifest.jsonl); RETRY=1 tries again" >&2
      continue
    fi
    echo "$name"
  done
}

# export_into TOOL [ARG...] -- NAME...: runs "$PYTHON TOOL ARG... TMP NAME..." (both tools take their
# output folder before the names) into a temporary folder, then moves its files in: an interrupted run
# leaves no half-written model behind. A model that does not export is reported in its manifest line.
export_into() {
  local args=() tmp
  while [ "$1" != -- ]; do args+=("$1"); shift; done
  shift
  tmp="$(mktemp -d "$BIG_MODELS_DIR/.tmp.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  echo "make-big-models.sh: ${args[*]} $*" >&2
  "$PYTHON" "${args[@]}" "$tmp" "$@" >&2
  for f in "$tmp"/*; do
    case "$f" in
      */manifest.jsonl) cat "$f" >>"$BIG_MODELS_DIR/manifest.jsonl" ;;
      *) mv -f "$f" "$BIG_MODELS_DIR/" ;;
    esac
  done
  rm -rf "$tmp"
  trap - EXIT
}

mapfile -t want < <(missing resnet50 mobilenet_v2 efficientnet_b0 squeezenet1_1 vit_b_16 bert_base_enc)
if [ "${#want[@]}" -gt 0 ]; then
  export_into "$tool" -- "${want[@]}"
fi
mapfile -t want < <(missing mobilenet_v3_large shufflenet_v2 deeplabv3_mbv3 yolo_small unet gpt2_step bert_base_shared)
if [ "${#want[@]}" -gt 0 ]; then
  export_into "$root/scripts/export_bench_suite.py" "$SHARED" -- "${want[@]}"
fi
echo "$BIG_MODELS_DIR"
