"""PyTorch peer for `llamaforge bench train` and `llamaforge pretrain` (docs/PERFORMANCE.md).

Runs the same training step as ours — transformers' LlamaForCausalLM, float32, eager
attention, AdamW(β 0.9/0.95, eps 1e-5, wd 0.1), global-norm clipping at 1.0 — with
torch's threads set to the machine's cores, and prints tokens/s (median step) and peak RSS.

    pip install torch transformers
    python tests/reference/bench_train_pytorch.py --preset 260K --batch 8 --seq 512
    python tests/reference/bench_train_pytorch.py --preset 15M --batch 4 --seq 256
    # the GPU peer of `bench train --device gpu` (also times an fp32 GEMM 4096³, TF32 off):
    python tests/reference/bench_train_pytorch.py --device cuda --preset 15M --batch 128 --seq 256 --gemm
    # the pretraining setting, on our own token streams (same tokenization), N steps:
    python tests/reference/bench_train_pytorch.py --preset 260K --batch 32 --seq 256 \
        --tokens runs/pretrain/train.tokens --val runs/pretrain/val.tokens --steps 500

Token files are llamaforge's cache format: magic `LFTOK1\\0\\0`, u64 key, u64 count,
`count` u32 ids (little-endian).
"""
import argparse
import os
import resource
import statistics
import struct
import time

import torch
from transformers import LlamaConfig, LlamaForCausalLM

PRESETS = {
    # dim, layers, heads, kv heads, vocab, hidden, tied
    "260K": (64, 5, 8, 4, 512, 172, True),
    "15M": (288, 6, 6, 6, 32000, 768, True),
}


def read_tokens(path):
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"LFTOK1\0\0", f"{path}: not a llamaforge token cache"
    (count,) = struct.unpack_from("<Q", data, 16)
    return torch.frombuffer(bytearray(data[24 : 24 + 4 * count]), dtype=torch.int32).long()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--preset", default="260K", choices=PRESETS)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--seq", type=int, default=512)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--tokens", help="train token cache (else random tokens)")
    p.add_argument("--val", help="validation token cache")
    p.add_argument("--lr", type=float, default=5e-3)
    p.add_argument("--warmup", type=int, default=100)
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--gemm", action="store_true", help="also time an fp32 GEMM 4096^3 on --device")
    args = p.parse_args()
    dev = torch.device(args.device)
    cuda = dev.type == "cuda"
    if cuda:
        # fp32 means fp32: no TF32 tensor-core shortcuts in matmuls
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    if args.gemm:
        n = 4096
        a, b = torch.randn(n, n, device=dev), torch.randn(n, n, device=dev)
        for _ in range(3):
            a @ b
        sync()
        reps = 20 if cuda else 2
        t0 = time.perf_counter()
        for _ in range(reps):
            a @ b
        sync()
        dt = (time.perf_counter() - t0) / reps
        print(f"pytorch {torch.__version__} GEMM {n}x{n}x{n} fp32 on {args.device}: {dt * 1e3:.2f} ms, "
              f"{2 * n ** 3 / dt / 1e12:.2f} TFLOP/s")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    dim, layers, heads, kv, vocab, hidden, tied = PRESETS[args.preset]
    config = LlamaConfig(
        vocab_size=vocab, hidden_size=dim, intermediate_size=hidden, num_hidden_layers=layers,
        num_attention_heads=heads, num_key_value_heads=kv, max_position_embeddings=max(args.seq, 256),
        rms_norm_eps=1e-5, tie_word_embeddings=tied, attn_implementation="eager",
    )
    model = LlamaForCausalLM(config).float().to(dev)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95), eps=1e-5)
    total = args.steps
    def lr_at(s):
        if s < args.warmup:
            return args.lr * (s + 1) / args.warmup
        prog = min(1.0, (s - args.warmup) / max(1, total - 1 - args.warmup))
        return 0.1 * args.lr + 0.5 * 0.9 * args.lr * (1 + __import__("math").cos(__import__("math").pi * prog))
    train = read_tokens(args.tokens) if args.tokens else None
    gen = torch.Generator().manual_seed(1337)
    times, start = [], time.time()
    for step in range(args.steps + (0 if train is not None else 2)):
        if train is not None:
            starts = torch.randint(0, len(train) - args.seq - 1, (args.batch,), generator=gen)
            batch = torch.stack([train[s : s + args.seq + 1] for s in starts.tolist()])
        else:
            batch = torch.randint(0, vocab, (args.batch, args.seq + 1), generator=gen)
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        batch = batch.to(dev)
        sync()
        t0 = time.perf_counter()
        logits = model(batch[:, :-1]).logits
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, vocab), batch[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sync()
        times.append(time.perf_counter() - t0)
        if train is not None and (step + 1) % 50 == 0:
            print(f"step {step + 1} loss {loss.item():.4f} elapsed {time.time() - start:.0f}s", flush=True)
    if train is None:
        times = times[2:]
    med = statistics.median(times)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    where = torch.cuda.get_device_name(dev) if cuda else f"{args.threads} threads"
    peak = f", peak GPU memory {torch.cuda.max_memory_allocated(dev) / 2**20:.0f} MiB" if cuda else ""
    print(f"pytorch {torch.__version__} {args.preset} batch {args.batch}x{args.seq}, {where}: "
          f"median step {med * 1e3:.1f} ms, {args.batch * args.seq / med:.0f} tok/s, peak RSS {rss:.0f} MiB{peak}")
    if args.val:
        val = read_tokens(args.val)
        n = min(64, (len(val) - 1) // args.seq)
        windows = torch.stack([val[i * args.seq : i * args.seq + args.seq + 1] for i in range(n)]).to(dev)
        with torch.no_grad():
            losses = []
            for i in range(0, n, args.batch):
                w = windows[i : i + args.batch]
                lg = model(w[:, :-1]).logits
                losses.append(torch.nn.functional.cross_entropy(lg.reshape(-1, vocab), w[:, 1:].reshape(-1)).item() * len(w))
        print(f"validation loss over {n} windows: {sum(losses) / n:.4f}")


if __name__ == "__main__":
    main()
