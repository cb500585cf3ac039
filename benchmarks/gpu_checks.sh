#!/usr/bin/env bash
# Every check that needs a CUDA GPU, in one run: the CUDA tests
# (tests/test_cuda.py: training and prediction on the GPU, fp16 with
# GradScaler, bf16, channels_last, pinned memory and DataLoader workers, the
# image and embedding caches, Grad-CAM and SHAP, Accelerate and
# `accelerate launch`, GPU models loaded on the CPU), the ResNet-50 training
# benchmark, then the whole test suite with the GPU visible (device="auto"
# picks it).
#
# Usage: bash benchmarks/gpu_checks.sh [RESULTS_DIR]    (default benchmarks/results)
set -u
out=${1:-benchmarks/results}
mkdir -p "$out"
export PYTHONUNBUFFERED=1
{
    date -u
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
    python3 -c "import torch, torchvision, sklearn, skorch; print('torch', torch.__version__, 'cuda', torch.version.cuda, '| torchvision', torchvision.__version__, '| scikit-learn', sklearn.__version__, '| skorch', skorch.__version__, '| GPU', torch.cuda.get_device_name())"
} 2>&1 | tee "$out/gpu_environment.txt"

echo "== CUDA tests"
timeout "${CUDA_TESTS_TIMEOUT:-240}" python3 -m pytest tests/test_cuda.py -p no:cacheprovider \
    -n 4 -q -rA --durations=10 2>&1 | tee "$out/gpu_tests.txt"

echo "== ResNet-50 training benchmark"
[ -n "${SKIP_BENCH:-}" ] || timeout "${BENCH_TIMEOUT:-200}" python3 benchmarks/bench_gpu_resnet50.py --output-dir "$out" \
    2>&1 | tee "$out/gpu_resnet50_cuda.txt"

echo "== whole test suite, GPU visible"
timeout "${SUITE_TIMEOUT:-300}" python3 -m pytest -p no:cacheprovider -n 15 -q -rf \
    --ignore=tests/test_cuda.py 2>&1 | tail -40 | tee "$out/gpu_whole_suite.txt"
