//! The two composite blocks the reference fixtures describe (tests/reference/blocks.py),
//! written with autograd ops: causal GQA attention with interleaved RoPE, and a pre-norm
//! residual RMSNorm + SwiGLU MLP. Weights follow PyTorch's `y = x @ W.T`, W `[out, in]`.

use llamaforge_autograd::Var;

/// `x` `[B,T,C]`, wq `[H*D,C]`, wk/wv `[KV*D,C]`, wo `[C,H*D]` → `[B,T,C]`.
#[allow(clippy::too_many_arguments)]
pub fn attention(x: &Var, wq: &Var, wk: &Var, wv: &Var, wo: &Var, h: usize, kv: usize, theta: f64) -> Var {
    let s = x.shape();
    let (b, t, c) = (s[0], s[1], s[2]);
    let d = c / h;
    let linear = |w: &Var| x.matmul(&w.transpose(0, 1));
    let q = linear(wq).reshape(&[b, t, h, d]).rope(0, None, theta).permute(&[0, 2, 1, 3]); // [B,H,T,D]
    let k = linear(wk).reshape(&[b, t, kv, d]).rope(0, None, theta).permute(&[0, 2, 1, 3]); // [B,KV,T,D]
    let v = linear(wv).reshape(&[b, t, kv, d]).permute(&[0, 2, 1, 3]);
    // grouped-query: each kv head serves H/KV consecutive query heads
    let group = |z: &Var| z.unsqueeze(2).broadcast_to(&[b, kv, h / kv, t, d]).reshape(&[b, h, t, d]);
    let (k, v) = (group(&k), group(&v));
    let scores = q.matmul(&k.transpose(2, 3)).scale(1.0 / (d as f64).sqrt()); // [B,H,T,T]
    let o = scores.softmax(true).matmul(&v); // [B,H,T,D]
    let o = o.permute(&[0, 2, 1, 3]).reshape(&[b, t, h * d]);
    o.matmul(&wo.transpose(0, 1))
}

/// `x + w2(silu(w1 h) * w3 h)` with `h = rmsnorm(x) * g`; x `[B,T,C]`, g `[C]`,
/// w1/w3 `[F,C]`, w2 `[C,F]`.
pub fn mlp(x: &Var, g: &Var, w1: &Var, w2: &Var, w3: &Var, eps: f64) -> Var {
    let h = x.rms_norm(g, eps);
    let gate = h.matmul(&w1.transpose(0, 1));
    let up = h.matmul(&w3.transpose(0, 1));
    x.add(&gate.swiglu(&up).matmul(&w2.transpose(0, 1)))
}
