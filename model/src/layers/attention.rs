//! Causal self-attention with rotary positions and grouped-query attention (GQA).
//!
//! Query/key rows are stored in the *interleaved* RoPE layout (Meta / llama2.c: pairs
//! `(2i, 2i+1)` rotate together), which is what the engine's `rope` op expects; HF
//! checkpoints are converted at load time (see `checkpoint/rope_layout.rs`).

use llamaforge_autograd::Var;

use super::{linear, KvTensors};

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
        self.forward_cached(x, pos_offset, None, None)
    }

    /// [`Attention::forward`] that also attends to, and appends to, a KV cache: `x` holds
    /// the T positions after the cache's, keys and values of earlier positions come from
    /// `cache` (layer `layer`). For inference: no gradient flows into cached positions.
    ///
    /// `left_pad` (B entries) marks the first `left_pad[b]` positions of row `b` (counted
    /// from the cache's start) as padding: no query attends to them, and the row's
    /// positions shift so its first real token sits at position 0 (HF's position ids from
    /// the attention mask). Real tokens then get exactly the unpadded row's values.
    pub fn forward_cached(
        &self,
        x: &Var,
        pos_offset: usize,
        left_pad: Option<&[usize]>,
        cache: Option<(&mut KvTensors, usize)>,
    ) -> Var {
        let shape = x.shape();
        let (b, t) = (shape[0], shape[1]);
        let (h, kv, d) = (self.n_heads, self.n_kv_heads, self.head_dim);
        let row_offsets: Option<Vec<i64>> = left_pad.map(|p| p.iter().map(|&n| -(n as i64)).collect());
        let kv_start: Option<Vec<u32>> = left_pad.map(|p| p.iter().map(|&n| n as u32).collect());

        // project and rotate: q [B, T, H, D], k/v [B, T, KV, D]
        let rope = |heads: Var| heads.rope(pos_offset, row_offsets.as_deref(), self.rope_theta);
        let q = rope(linear(x, &self.q_proj).reshape(&[b, t, h, d]));
        let k = rope(linear(x, &self.k_proj).reshape(&[b, t, kv, d]));
        let v = linear(x, &self.v_proj).reshape(&[b, t, kv, d]);
        let (k, v) = match cache {
            Some((cache, layer)) => {
                let (k_all, v_all) = cache.extend(layer, k.value(), v.value()); // [B, Tk, KV, D]
                (Var::constant(k_all), Var::constant(v_all))
            }
            None => (k, v),
        };

        // fused causal attention (engine op `attention`): query head j reads kv head
        // j / (H/KV), as HF's repeat_kv does, without copying k/v per head or materializing
        // the [B, H, T, T] scores; with a cache, Tk = cached + T and query i sees keys
        // up to its own position (the mask is offset by the cached positions); keys before
        // kv_start[b] are row b's padding
        let out = Var::attention(&q, &k, &v, true, kv_start.as_deref()); // [B, T, H, D]

        // back to [B, T, H·D], then the output projection
        linear(&out.reshape(&[b, t, h * d]), &self.o_proj)
    }
}
