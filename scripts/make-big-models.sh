#!/usr/bin/env bash
# make-big-models.sh exports the large models of the cold-start table (issue 13): ResNet-50, the BERT-base
# encoder and ViT-B/16, with random weights and their inputs, by ../shared/tools/make_big_models.py
# (Debian's python3-torch and python3-torchvision) into .cache/big-models, which git ignores (about 750 MB:
# BERT alone is 340 MB; nothing of it may be committed). Several minutes on 2 cores. Idempotent: a model
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
want=()
for name in resnet50 bert_base_enc vit_b_16; do
  if [ "$name" = bert_base_enc ] && [ -e "$BIG_MODELS_DIR/bert_base_enc_manual.onnx" ]; then continue; fi
  [ -e "$BIG_MODELS_DIR/$name.onnx" ] && [ -e "$BIG_MODELS_DIR/${name}_in_1.npy" ] || want+=("$name")
done
if [ "${#want[@]}" -gt 0 ]; then
  # Into a temporary folder, then moved: an interrupted run leaves no half-written model behind.
  tmp="$(mktemp -d "$BIG_MODELS_DIR/.tmp.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  echo "make-big-models.sh: $tool ${want[*]}" >&2
  "$PYTHON" "$tool" "$tmp" "${want[@]}" >&2
  for f in "$tmp"/*; do
    case "$f" in
      */manifest.jsonl) cat "$f" >>"$BIG_MODELS_DIR/manifest.jsonl" ;;
      *) mv -f "$f" "$BIG_MODELS_DIR/" ;;
    esac
  done
fi
echo "$BIG_MODELS_DIR"
