#!/usr/bin/env bash
# Every GPU benchmark in one go, for a session with a lent GPU (about 20 minutes on one H100).
# Usage (from the repository root, on the GPU machine): bash benchmarks/gpu_session.sh [OUT_DIR]
# Each benchmark's full output goes to OUT_DIR/<name>.txt and its RESULT/RATIO lines to the
# terminal; copy the figures into benchmarks/README.md with the date, GPU and torch version.
set -u
out="${1:-${OUT:-/tmp/strided-gpu-bench}}"
mkdir -p "$out"
py="${PYTHON:-python3}"
run() {
  local name="$1"; shift
  echo "== $name: $*"
  timeout "${BENCH_TIMEOUT:-500}" "$py" "$@" > "$out/$name.txt" 2>&1
  echo "   exit $?"; grep -E "^(RESULT|RATIO|processes|[0-9]+ \|)" "$out/$name.txt" | sed 's/^/   /'
}
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$out/gpu.txt"
"$py" -c "import torch; print('torch', torch.__version__)" | tee -a "$out/gpu.txt"
run seed_convnet         benchmarks/seed_convnet.py --device cuda --limit 60000 --epochs 2 --repeats 2
run seed_convnet_jit     benchmarks/seed_convnet.py --device cuda --limit 60000 --epochs 3 --repeats 2 --jit --no-keras
run distributed_seed     benchmarks/distributed_step.py --device cuda --nproc 1 --limit 60000 --repeats 2
run distributed_resnet50 benchmarks/distributed_step.py --device cuda --model resnet50 --batch 64 --nproc 1
run mnist_fast           benchmarks/mnist_fast.py --device cuda
run predict              benchmarks/predict_throughput.py --device cuda --repeats 5 --batch-sizes 256,1024
run resnet50             benchmarks/resnet50_step.py --device cuda --repeats 1
run resnet50_bf16        benchmarks/resnet50_step.py --device cuda --repeats 1 --precision mixed_bfloat16 --no-keras
