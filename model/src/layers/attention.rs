//! Causal self-attention with rotary positions and grouped-query attention (GQA).
//!
//! Query/key rows are stored in the *interleaved* RoPE layout (Meta / llama2.c: pairs
//! `(2i, 2i+1)` rotate together), which is what the engine's `rope` op expects; HF
//! checkpoints are converted at load time (see `checkpoint/rope_layout.rs`).

use llamaforge_autograd::Var;

use super::linear;

/// The four projections of one attention layer.
pub struct Attention {
    /// `[H·D, C]`
    pub q_proj: Var,
    /// `[KV·D, C]`
    pub k_proj: Var,
    /// `[KV·D, C]`
    pub v_proj: Var,
    /// `[C, H·D]`
    pub o_proj: Var,
    pub n_heads: usize,
    pub n_kv_heads: usize,
    pub head_dim: usize,
    pub rope_theta: f64,
}

impl Attention {
    /// `x` `[B, T, C]` at positions `pos_offset..pos_offset+T` → `[B, T, C]`.
    pub fn forward(&self, x: &Var, pos_offset: usize) -> Var {
        let shape = x.shape();
        let (b, t) = (shape[0], shape[1]);
        let (h, kv, d) = (self.n_heads, self.n_kv_heads, self.head_dim);

        // project and rotate: q [B, T, H, D], k/v [B, T, KV, D]
        let q = linear(x, &self.q_proj).reshape(&[b, t, h, d]).rope(pos_offset, self.rope_theta);
        let k = linear(x, &self.k_proj).reshape(&[b, t, kv, d]).rope(pos_offset, self.rope_theta);
        let v = linear(x, &self.v_proj).reshape(&[b, t, kv, d]);

        // heads first: q [B, H, T, D]; k, v [B, KV, T, D] repeated to [B, H, T, D] so that
        // query head j reads kv head j / (H/KV), as in HF's repeat_kv
        let q = q.permute(&[0, 2, 1, 3]);
        let k = repeat_kv(&k.permute(&[0, 2, 1, 3]), h / kv);
        let v = repeat_kv(&v.permute(&[0, 2, 1, 3]), h / kv);

        // scores [B, H, T, T], causal softmax, weighted values [B, H, T, D]
        let scores = q.matmul(&k.transpose(2, 3)).scale(1.0 / (d as f64).sqrt());
        let weights = scores.softmax(true);
        let out = weights.matmul(&v);

        // back to [B, T, H·D], then the output projection
        let out = out.permute(&[0, 2, 1, 3]).reshape(&[b, t, h * d]);
        linear(&out, &self.o_proj)
    }
}

/// `[B, KV, T, D]` → `[B, KV·groups, T, D]`, each kv head repeated `groups` times in a row.
fn repeat_kv(x: &Var, groups: usize) -> Var {
    if groups == 1 {
        return x.clone();
    }
    let s = x.shape();
    let (b, kv, t, d) = (s[0], s[1], s[2], s[3]);
    x.reshape(&[b, kv, 1, t, d]).broadcast_to(&[b, kv, groups, t, d]).reshape(&[b, kv * groups, t, d])
}
