"""PyTorch reference fixtures for one attention block and one MLP block.

Writes:
  tests/fixtures/attention_block.safetensors
  tests/fixtures/mlp_block.safetensors

Regenerate (from the repository root):
  pip install torch safetensors numpy
  python tests/reference/blocks.py

All tensors are float32, contiguous, row-major. Deterministic: torch.manual_seed
is set before each block, and the computation runs on the CPU in float32.
Each file also carries safetensors header metadata (string -> string) with the
shapes, the conventions below and the torch version.

Conventions (exact; the Rust tests are written to them)
-------------------------------------------------------
* Linear layers: y = x @ W.T, with W of shape [out, in] (PyTorch / HF layout).
* RoPE, *interleaved* (Meta / llama2.c) layout. For a head vector x of size D,
  the pairs (x[2i], x[2i+1]), i in 0..D/2, are rotated by the angle
      angle = pos * theta^(-2i/D),  theta = 10000,  pos = t (0-based position)
      out[2i]   = x[2i] * cos(angle) - x[2i+1] * sin(angle)
      out[2i+1] = x[2i] * sin(angle) + x[2i+1] * cos(angle)
  (The frequencies are computed in float32 as torch does:
   inv_freq = 1 / theta ** (arange(0, D, 2) / D).)

attention_block.safetensors
  B=2, T=5, C=16, H=4 query heads, KV=2 key/value heads, D=C/H=4.
  x [B,T,C] = randn; wq [H*D,C], wk [KV*D,C], wv [KV*D,C], wo [C,H*D] = randn*0.3
  (drawn in that order after torch.manual_seed(0)), then dy [B,T,C] = randn.
  q = (x @ wq.T).view(B,T,H,D); k = (x @ wk.T).view(B,T,KV,D); v likewise.
  RoPE (above) on q and k. Grouped-query: query head h uses kv head h // (H//KV).
  scores[b,h,i,j] = q[b,i,h]·k[b,j,h//(H//KV)] / sqrt(D), causal mask
  (j > i masked out, i.e. -inf before softmax), softmax over j,
  o[b,i,h] = sum_j attn[b,h,i,j] v[b,j,h//(H//KV)]; o is [B,T,H*D] with the
  heads concatenated in order (head h occupies columns h*D..(h+1)*D);
  out = o @ wo.T -> [B,T,C].
  Loss L = (out * dy).sum(); grad.<name> = dL/d<name>.
  Tensors: x, wq, wk, wv, wo, dy, out, grad.x, grad.wq, grad.wk, grad.wv, grad.wo

mlp_block.safetensors  (pre-norm residual, as in a LLaMA layer)
  B=2, T=3, C=16, F=40, eps=1e-5.
  x [B,T,C] = randn; g [C] = 1 + 0.1*randn; w1 [F,C], w3 [F,C], w2 [C,F] = randn*0.3
  (drawn in that order after torch.manual_seed(1)), then dy [B,T,C] = randn.
  h   = x * rsqrt(mean(x^2, last dim) + eps) * g
  out = x + (silu(h @ w1.T) * (h @ w3.T)) @ w2.T,  silu(z) = z * sigmoid(z)
  Loss L = (out * dy).sum(); grad.<name> = dL/d<name>.
  Tensors: x, g, w1, w2, w3, dy, out, grad.x, grad.g, grad.w1, grad.w2, grad.w3

The script self-checks: the RoPE against a complex-multiply (Meta-style)
implementation, the attention against F.scaled_dot_product_attention, and
forward/gradients against a float64 re-computation.

Files are written with safetensors.torch.save_file and then the header's
__metadata__ keys are sorted (tests/reference/_common.py) so regeneration is
byte-for-byte reproducible.
"""

import json
import math
import os

import torch
import torch.nn.functional as F
from _common import save_sorted  # save_file + sorted metadata keys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "tests", "fixtures")
THETA = 10000.0


# ---------------------------------------------------------------- attention
def rope_interleaved(x, theta=THETA):
    """x: [B, T, NH, D]; rotate pairs (2i, 2i+1) by t * theta^(-2i/D)."""
    B, T, NH, D = x.shape
    inv_freq = 1.0 / (theta ** (torch.arange(0, D, 2, dtype=x.dtype) / D))  # [D/2]
    pos = torch.arange(T, dtype=x.dtype)
    ang = pos[:, None] * inv_freq[None, :]  # [T, D/2]
    cos = ang.cos()[None, :, None, :]
    sin = ang.sin()[None, :, None, :]
    x0 = x[..., 0::2]
    x1 = x[..., 1::2]
    o0 = x0 * cos - x1 * sin
    o1 = x0 * sin + x1 * cos
    return torch.stack([o0, o1], dim=-1).reshape(B, T, NH, D)


def rope_complex(x, theta=THETA):
    """Meta llama reference: view pairs as complex numbers, multiply by e^{i angle}."""
    B, T, NH, D = x.shape
    inv_freq = 1.0 / (theta ** (torch.arange(0, D, 2, dtype=torch.float64) / D))
    ang = torch.arange(T, dtype=torch.float64)[:, None] * inv_freq[None, :]
    freqs = torch.polar(torch.ones_like(ang), ang)[None, :, None, :]
    xc = torch.view_as_complex(x.double().reshape(B, T, NH, D // 2, 2).contiguous())
    return torch.view_as_real(xc * freqs).reshape(B, T, NH, D)


def attention(x, wq, wk, wv, wo, H, KV):
    B, T, C = x.shape
    D = wq.shape[0] // H
    q = (x @ wq.T).view(B, T, H, D)
    k = (x @ wk.T).view(B, T, KV, D)
    v = (x @ wv.T).view(B, T, KV, D)
    q = rope_interleaved(q)
    k = rope_interleaved(k)
    rep = H // KV
    kv_of_head = torch.arange(H) // rep  # query head h -> kv head h // rep
    k = k[:, :, kv_of_head, :]  # [B,T,H,D]
    v = v[:, :, kv_of_head, :]
    q = q.transpose(1, 2)  # [B,H,T,D]
    k = k.transpose(1, 2)
    v = v.transpose(1, 2)
    scores = (q @ k.transpose(-1, -2)) / math.sqrt(D)  # [B,H,Tq,Tk]
    mask = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)  # j > i
    scores = scores.masked_fill(mask, float("-inf"))
    attn = torch.softmax(scores, dim=-1)
    o = attn @ v  # [B,H,T,D]
    o = o.transpose(1, 2).reshape(B, T, H * D)
    return o @ wo.T, (q, k, v, o)


def make_attention():
    B, T, C, H, KV = 2, 5, 16, 4, 2
    D = C // H
    torch.manual_seed(0)
    x = torch.randn(B, T, C)
    wq = torch.randn(H * D, C) * 0.3
    wk = torch.randn(KV * D, C) * 0.3
    wv = torch.randn(KV * D, C) * 0.3
    wo = torch.randn(C, H * D) * 0.3
    dy = torch.randn(B, T, C)

    params = {"x": x, "wq": wq, "wk": wk, "wv": wv, "wo": wo}
    leaves = {n: t.clone().requires_grad_(True) for n, t in params.items()}
    out, (q, k, v, o) = attention(leaves["x"], leaves["wq"], leaves["wk"], leaves["wv"], leaves["wo"], H, KV)
    (out * dy).sum().backward()

    # --- self checks
    qr = (x @ wq.T).view(B, T, H, D)
    assert torch.allclose(rope_interleaved(qr).double(), rope_complex(qr), atol=1e-5)
    # explicit formula for one element: pair i=1 of head 2 at position t=3
    t, hh, i = 3, 2, 1
    a = t * THETA ** (-2 * i / D)
    e0 = qr[0, t, hh, 2 * i] * math.cos(a) - qr[0, t, hh, 2 * i + 1] * math.sin(a)
    e1 = qr[0, t, hh, 2 * i] * math.sin(a) + qr[0, t, hh, 2 * i + 1] * math.cos(a)
    got = rope_interleaved(qr)[0, t, hh]
    assert abs(got[2 * i] - e0) < 1e-5 and abs(got[2 * i + 1] - e1) < 1e-5
    sdpa = F.scaled_dot_product_attention(q.detach(), k.detach(), v.detach(), is_causal=True)
    assert torch.allclose(sdpa.transpose(1, 2).reshape(B, T, H * D), o.detach(), atol=1e-5)
    leaves64 = {n: t.double().requires_grad_(True) for n, t in params.items()}
    out64, _ = attention(leaves64["x"], leaves64["wq"], leaves64["wk"], leaves64["wv"], leaves64["wo"], H, KV)
    (out64 * dy.double()).sum().backward()
    err = (out.detach().double() - out64.detach()).abs().max().item()
    for n in params:
        err = max(err, (leaves[n].grad.double() - leaves64[n].grad).abs().max().item())
    assert err < 1e-4, err
    print(f"attention: max |f32 - f64| over out and grads = {err:.2e}")

    tensors = dict(params)
    tensors["dy"] = dy
    tensors["out"] = out.detach()
    for n in params:
        tensors["grad." + n] = leaves[n].grad
    meta = {
        "description": "LLaMA attention block (no norm, no residual): GQA, interleaved RoPE, causal softmax",
        "B": str(B), "T": str(T), "C": str(C), "H": str(H), "KV": str(KV), "D": str(D),
        "shapes": json.dumps({n: list(t.shape) for n, t in tensors.items()}),
        "linear": "y = x @ W.T, W is [out, in]",
        "rope": "interleaved pairs (x[2i], x[2i+1]), angle = t * theta^(-2i/D), theta=10000, t 0-based; "
                "out[2i] = x[2i]*cos - x[2i+1]*sin, out[2i+1] = x[2i]*sin + x[2i+1]*cos; applied to q and k",
        "gqa": "query head h uses kv head h // (H // KV)",
        "attention": "scores = q.k / sqrt(D), causal mask (key j > query i masked), softmax over keys, "
                     "o = attn @ v, heads concatenated in order -> [B,T,H*D], out = o @ wo.T",
        "loss": "L = (out * dy).sum(); grad.<name> = dL/d<name>",
        "seed": "torch.manual_seed(0); draw order x, wq, wk, wv, wo, dy",
        "torch_version": torch.__version__,
    }
    return tensors, meta


# ---------------------------------------------------------------- MLP
def mlp(x, g, w1, w2, w3, eps):
    h = x * torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + eps) * g
    return x + (F.silu(h @ w1.T) * (h @ w3.T)) @ w2.T


def make_mlp():
    B, T, C, Fh, eps = 2, 3, 16, 40, 1e-5
    torch.manual_seed(1)
    x = torch.randn(B, T, C)
    g = 1 + 0.1 * torch.randn(C)
    w1 = torch.randn(Fh, C) * 0.3
    w3 = torch.randn(Fh, C) * 0.3
    w2 = torch.randn(C, Fh) * 0.3
    dy = torch.randn(B, T, C)

    params = {"x": x, "g": g, "w1": w1, "w2": w2, "w3": w3}
    leaves = {n: t.clone().requires_grad_(True) for n, t in params.items()}
    out = mlp(leaves["x"], leaves["g"], leaves["w1"], leaves["w2"], leaves["w3"], eps)
    (out * dy).sum().backward()

    leaves64 = {n: t.double().requires_grad_(True) for n, t in params.items()}
    out64 = mlp(leaves64["x"], leaves64["g"], leaves64["w1"], leaves64["w2"], leaves64["w3"], eps)
    (out64 * dy.double()).sum().backward()
    err = (out.detach().double() - out64.detach()).abs().max().item()
    for n in params:
        err = max(err, (leaves[n].grad.double() - leaves64[n].grad).abs().max().item())
    assert err < 1e-4, err
    print(f"mlp: max |f32 - f64| over out and grads = {err:.2e}")

    tensors = dict(params)
    tensors["dy"] = dy
    tensors["out"] = out.detach()
    for n in params:
        tensors["grad." + n] = leaves[n].grad
    meta = {
        "description": "LLaMA pre-norm MLP residual block: RMSNorm -> SwiGLU -> residual add",
        "B": str(B), "T": str(T), "C": str(C), "F": str(Fh), "eps": str(eps),
        "shapes": json.dumps({n: list(t.shape) for n, t in tensors.items()}),
        "linear": "y = x @ W.T, W is [out, in]",
        "rmsnorm": "h = x * rsqrt(mean(x^2, last dim) + eps) * g",
        "mlp": "out = x + (silu(h @ w1.T) * (h @ w3.T)) @ w2.T, silu(z) = z * sigmoid(z)",
        "loss": "L = (out * dy).sum(); grad.<name> = dL/d<name>",
        "seed": "torch.manual_seed(1); draw order x, g, w1, w3, w2, dy",
        "torch_version": torch.__version__,
    }
    return tensors, meta


def save(tensors, meta, name):
    path = os.path.join(FIXTURES, name)
    tensors = {n: t.detach().to(torch.float32).contiguous() for n, t in tensors.items()}
    save_sorted(tensors, path, metadata=meta)
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


def main():
    os.makedirs(FIXTURES, exist_ok=True)
    torch.set_num_threads(1)
    save(*make_attention(), "attention_block.safetensors")
    save(*make_mlp(), "mlp_block.safetensors")


if __name__ == "__main__":
    main()
