#!/usr/bin/env bash
# Training throughput of onnxrun against PyTorch (Debian's python3-torch, 1.13) on the seed's LeNet and on
# the residual CNN (`onnxrun train --arch resnet-small`, models.SmallResNet, with BatchNorm), issues 12's
# and 17's anchor: the same network, data, loss, optimizer (Adam, lr 0.001, eps 1e-7), batch size and thread
# count (scripts/bench_train_torch.py mirrors `onnxrun train`), at 1 and 2 threads and batches 32 and 128.
# Each round runs every configuration once, in turn, so a drift in the machine's speed falls on all alike;
# the table gives the median images/s of each, and the load average at the start and the end.
#
# Debian's torch does its Linear layers through the system libblas.so.3 (its convolutions run on oneDNN
# either way). With only the reference netlib BLAS installed that is about 3 GFLOP/s and PyTorch looks
# slow for no fault of its own: this script prints which BLAS torch loads and refuses to run on netlib
# (ALLOW_NETLIB=1 runs anyway). apt-get install libopenblas0-pthread switches libblas.so.3 to OpenBLAS.
# torch.set_num_threads does not reach OpenBLAS, so the Linear layers would run on OpenBLAS's own default
# thread count: OPENBLAS_NUM_THREADS (and OMP_NUM_THREADS) are set to the same T as torch's and onnxrun's
# threads, and bench_train_torch.py sets and reports OpenBLAS's count itself. (Until 2026-12-07 this was 1,
# which held PyTorch's Linear layers to one thread in the 2-thread runs.)
#
#   scripts/bench-train.sh          IMAGES=12000 ROUNDS=3 THREADS="1 2" BATCHES="32 128" ARCH="lenet resnet-small"
#   IMAGES=3000 ROUNDS=1 ARCH=resnet-small scripts/bench-train.sh
#                                   a quick check of one network (DATA=dir: MNIST elsewhere than data/mnist)
# IMAGES applies to LeNet; the residual CNN, about 40 times LeNet's work per image, trains on IMAGES/4
# (RESNET_IMAGES sets it): with fewer (600 of IMAGES=6000 at /10) its first steps' setup weighed on
# onnxrun's figure, 228 images/s at 1 thread and batch 128 against 471 over 3,000 images.
#
# Needs `make data` (MNIST in data/mnist) and python3-torch.
set -euo pipefail
cd "$(dirname "$0")/.."
images="${IMAGES:-12000}" rounds="${ROUNDS:-3}" data="${DATA:-data/mnist}"
read -r -a thread_counts <<<"${THREADS:-1 2}"
read -r -a batches <<<"${BATCHES:-32 128}"
read -r -a archs <<<"${ARCH:-lenet resnet-small}"
for a in "${archs[@]}"; do
  case "$a" in lenet|resnet-small) ;; *) echo "bench-train.sh: ARCH $a: want lenet or resnet-small" >&2; exit 1 ;; esac
done
resnet_images="${RESNET_IMAGES:-$((images / 4))}"
python="${PYTHON:-/usr/bin/python3}"
if [ ! -d "$data" ]; then echo "bench-train.sh: $data is missing: run make data (or set DATA)" >&2; exit 1; fi
torch_dir="$("$python" -c 'import torch, os; print(os.path.dirname(torch.__file__))' 2>/dev/null)" ||
  { echo "bench-train.sh: $python has no torch: apt-get install python3-torch" >&2; exit 1; }

# Which BLAS torch gets: the libblas.so.3 the dynamic linker resolves for libtorch_cpu.so, through
# Debian's alternatives.
blas_lib="$(ldd "$torch_dir/lib/libtorch_cpu.so" | awk '$1 == "libblas.so.3" {print $3}')"
blas_real="$(readlink -f "${blas_lib:-/nonexistent}" || true)"
case "$blas_real" in
  *openblas*) blas="OpenBLAS ($blas_real)" ;;
  *blis*) blas="BLIS ($blas_real)" ;;
  *mkl*) blas="MKL ($blas_real)" ;;
  */blas/libblas.so.3*) blas="reference netlib BLAS ($blas_real)" ;;
  *) blas="unknown (${blas_real:-libtorch_cpu.so links no libblas.so.3})" ;;
esac
torch_version="$("$python" -c 'import torch; print(torch.__version__)')"
blas_info="$("$python" -c 'import torch, re; m = re.search(r"BLAS_INFO=([^,]*)", torch.__config__.show()); print(m.group(1) if m else "?")')"
echo "PyTorch $torch_version (BLAS_INFO=$blas_info): libblas.so.3 is $blas"
case "$blas" in
  reference*|unknown*)
    echo "bench-train.sh: PyTorch's Linear layers would run on $blas, not a tuned BLAS:" >&2
    echo "  apt-get install libopenblas0-pthread (or ALLOW_NETLIB=1 to measure it anyway)" >&2
    [ "${ALLOW_NETLIB:-0}" = 1 ] || exit 1 ;;
esac

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/onnxrun" ./cmd/onnxrun
load_start="$(cut -d' ' -f1-3 /proc/loadavg)"
cpu_name="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
cpu_family="$(grep -m1 '^cpu family' /proc/cpuinfo | cut -d: -f2 | tr -d ' ')"
cpu_model="$(grep -m1 '^model[[:space:]]*:' /proc/cpuinfo | cut -d: -f2 | tr -d ' ')"
cpu_isa="$(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -xE 'avx2|fma|avx512f|avx512bw|avx512vl|avx512_vnni' | tr '\n' ' ')"
echo "Training ${archs[*]}: $images MNIST images per LeNet run, $resnet_images per resnet-small run, $rounds round(s); $cpu_name (family $cpu_family model $cpu_model; ${cpu_isa% }), $(nproc) CPUs; load average at start $load_start"

arch_images() { if [ "$1" = lenet ]; then echo "$images"; else echo "$resnet_images"; fi; }
onnxrun_run() { # arch threads batch
  "$tmp/onnxrun" train --arch "$1" --data "$data" --epochs 1 --batch "$3" --threads "$2" --limit "$(arch_images "$1")" --val-split 0 \
    --quiet --out "$tmp/$1.onnx" | sed -n 's/^epoch .*  \([0-9]*\) img\/s.*/\1/p'
}
torch_run() { # arch threads batch
  OPENBLAS_NUM_THREADS="$2" OMP_NUM_THREADS="$2" "$python" scripts/bench_train_torch.py --arch "$1" --data "$data" --batch "$3" --threads "$2" --limit "$(arch_images "$1")" |
    sed -n 's/.*"images_per_sec": \([0-9.]*\).*/\1/p'
}
declare -A runs
for r in $(seq "$rounds"); do
  for a in "${archs[@]}"; do
    for th in "${thread_counts[@]}"; do
      for b in "${batches[@]}"; do
        for who in onnxrun torch; do
          v="$("${who}_run" "$a" "$th" "$b")"
          [ -n "$v" ] || { echo "bench-train.sh: $who, $a at $th thread(s), batch $b printed no images/s" >&2; exit 1; }
          runs[$who,$a,$th,$b]+="$v "
          echo "round $r: $who, $a, $th thread(s), batch $b: $v img/s"
        done
      done
    done
  done
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
echo
# The run's own threads hold the 1-minute average up for a while after they stop: wait (up to 90 s) for it
# to decay below 0.5 before the end reading, so that a reading above it means other work was running.
for _ in $(seq 18); do
  awk '{exit !($1 < 0.5)}' /proc/loadavg && break
  sleep 5
done
echo "Median images/s; load average at start $load_start, at end $(cut -d' ' -f1-3 /proc/loadavg) (read after waiting up to 90 s for the run's own load to decay)."
echo "PyTorch $torch_version with $blas, OpenBLAS and OpenMP on as many threads as torch."
printf '| network | threads | batch | onnxrun img/s | PyTorch img/s | onnxrun / PyTorch |\n|---|--:|--:|--:|--:|--:|\n'
for a in "${archs[@]}"; do
  for th in "${thread_counts[@]}"; do
    for b in "${batches[@]}"; do
      # shellcheck disable=SC2086
      o="$(median ${runs[onnxrun,$a,$th,$b]})" p="$(median ${runs[torch,$a,$th,$b]})"
      printf '| %s | %s | %s | %.0f | %.0f | %.2f× |\n' "$a" "$th" "$b" "$o" "$p" "$(awk -v a="$o" -v b="$p" 'BEGIN {print a/b}')"
    done
  done
done
