#!/usr/bin/env bash
# GPU benchmarks of llamaforge next to PyTorch, on a machine with a real GPU. Needs no Rust:
# build the binary elsewhere (`cargo build --release`) and copy it with this repository.
#
#   scripts/gpu-bench.sh [path/to/llamaforge]      # default: target/release/llamaforge
#
# Runs `bench ops --device gpu` (GEMM 256..4096, fused ops) and `bench train --preset 15M
# --batch 128 --seq 256 --device gpu`; when `python3 -c 'import torch, transformers'` works
# and CUDA is available, also the PyTorch peer (tests/reference/bench_train_pytorch.py
# --device cuda --gemm). Prints one summary table at the end; full logs go to $OUT_DIR
# (default: gpu-bench-<date>/). Environment: WGPU_BACKEND (e.g. vulkan) picks the wgpu
# backend; STEPS (default 10) the timed training steps.
set -euo pipefail

cd "$(dirname "$0")/.."
BIN=${1:-target/release/llamaforge}
STEPS=${STEPS:-10}
OUT_DIR=${OUT_DIR:-gpu-bench-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT_DIR"
[ -x "$BIN" ] || { echo "no llamaforge binary at $BIN (pass its path as \$1)" >&2; exit 1; }

echo "== devices"
"$BIN" devices --check | tee "$OUT_DIR/devices.txt"

echo "== llamaforge bench ops --device gpu"
"$BIN" bench ops --device gpu --reps 20 | tee "$OUT_DIR/ops.txt"

echo "== llamaforge bench train --preset 15M --batch 128 --seq 256 --device gpu"
"$BIN" bench train --preset 15M --batch 128 --seq 256 --steps "$STEPS" --device gpu | tee "$OUT_DIR/train.txt"

torch_ok=0
if python3 -c 'import torch, transformers, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
    torch_ok=1
    echo "== PyTorch peer (cuda)"
    python3 tests/reference/bench_train_pytorch.py --device cuda --gemm --preset 15M --batch 128 --seq 256 \
        --steps "$STEPS" | tee "$OUT_DIR/pytorch.txt"
else
    echo "== PyTorch peer skipped: torch + transformers with CUDA not importable"
fi

# --- summary table -------------------------------------------------------------------
gemm4096=$(awk '$1=="4096x4096x4096" {print $3}' "$OUT_DIR/ops.txt")
ours_tok=$(grep -o '[0-9]* tok/s' "$OUT_DIR/train.txt" | awk '{print $1}')
ours_mem=$(grep -o 'peak GPU memory [0-9]* MiB' "$OUT_DIR/train.txt" | awk '{print $4}')
gpu_name=$(grep -m1 '^gpu:0' "$OUT_DIR/devices.txt" | sed 's/^gpu:0 *//')
echo
echo "GPU: ${gpu_name:-unknown}"
printf '| %-44s | %-18s | %-18s |\n' "what" "llamaforge" "PyTorch"
printf '| %-44s | %-18s | %-18s |\n' "---" "---" "---"
if [ "$torch_ok" = 1 ]; then
    torch_gemm=$(grep -o '[0-9.]* TFLOP/s' "$OUT_DIR/pytorch.txt" | awk '{print $1}')
    torch_tok=$(grep -o '[0-9]* tok/s' "$OUT_DIR/pytorch.txt" | awk '{print $1}')
    torch_mem=$(grep -o 'peak GPU memory [0-9]* MiB' "$OUT_DIR/pytorch.txt" | awk '{print $4}')
else
    torch_gemm="n/a"; torch_tok="n/a"; torch_mem="n/a"
fi
ours_tflops=$(awk -v g="${gemm4096:-0}" 'BEGIN { printf "%.2f", g / 1000 }')
printf '| %-44s | %-18s | %-18s |\n' "f32 GEMM 4096³ (TFLOP/s)" "$ours_tflops" "$torch_gemm"
printf '| %-44s | %-18s | %-18s |\n' "train step 15M, batch 128×256 (tok/s)" "${ours_tok:-n/a}" "$torch_tok"
printf '| %-44s | %-18s | %-18s |\n' "peak GPU memory, that step (MiB)" "${ours_mem:-n/a}" "$torch_mem"
echo
echo "logs: $OUT_DIR/ (ours: tensor buffer pool high-water mark; PyTorch: max_memory_allocated)"
