#!/usr/bin/env bash
# Training throughput of onnxrun against PyTorch 1.13 (Debian's python3-torch) on the seed's LeNet: the
# same network, data, loss, optimizer (Adam), batch size and thread count, measured side by side. Each
# round runs every contender once, in turn, so a busy machine slows them alike; the script prints every
# run and the median images/s of each.
#
# Besides PyTorch as installed (THREADS threads), two references for context: PyTorch with
# OMP_WAIT_POLICY=PASSIVE (its OpenMP threads sleep instead of spinning at barriers, which matters when the
# CPUs are shared) and PyTorch on one thread.
#
#   scripts/bench-train.sh [BATCH] [THREADS] [IMAGES] [ROUNDS]     defaults: 128 2 12000 3
#
# Needs `make data` (MNIST in data/mnist) and python3-torch (apt-get install python3-torch).
set -euo pipefail
cd "$(dirname "$0")/.."
batch="${1:-128}" threads="${2:-2}" images="${3:-12000}" rounds="${4:-3}"
python="${PYTHON:-/usr/bin/python3}"
if [ ! -d data/mnist ]; then echo "bench-train.sh: data/mnist is missing: run make data" >&2; exit 1; fi
if ! "$python" -c 'import torch' 2>/dev/null; then echo "bench-train.sh: $python has no torch: apt-get install python3-torch" >&2; exit 1; fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/onnxrun" ./cmd/onnxrun
echo "LeNet training, batch $batch, $images MNIST images per run, $rounds rounds; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"

torch() { # threads, env...
  local th="$1"; shift
  env "$@" "$python" scripts/bench_train_torch.py --data data/mnist --batch "$batch" --threads "$th" --limit "$images" |
    sed -n 's/.*"images_per_sec": \([0-9.]*\).*/\1/p'
}
onnxrun() {
  "$tmp/onnxrun" train --data data/mnist --epochs 1 --batch "$batch" --threads "$threads" --limit "$images" --val-limit 1000 \
    --quiet --out "$tmp/lenet.onnx" | sed -n 's/^epoch .*  \([0-9]*\) img\/s.*/\1/p'
}
names=("onnxrun, $threads threads" "pytorch, $threads threads" "pytorch, $threads threads, OMP_WAIT_POLICY=PASSIVE" "pytorch, 1 thread")
declare -a runs0 runs1 runs2 runs3
for r in $(seq "$rounds"); do
  runs0+=("$(onnxrun)")
  runs1+=("$(torch "$threads")")
  runs2+=("$(torch "$threads" OMP_WAIT_POLICY=PASSIVE)")
  runs3+=("$(torch 1)")
  echo "round $r: onnxrun ${runs0[-1]}, pytorch ${runs1[-1]}, pytorch passive ${runs2[-1]}, pytorch 1 thread ${runs3[-1]} img/s"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
m0=$(median "${runs0[@]}")
echo "median images/s (load now $(cut -d' ' -f1-3 /proc/loadavg)):"
for i in 0 1 2 3; do
  eval "m=\$(median \"\${runs$i[@]}\")"
  printf '  %-50s %8.0f  (onnxrun is %.2fx)\n' "${names[$i]}" "$m" "$(awk -v a="$m0" -v b="$m" 'BEGIN {print a/b}')"
done
