//! One transformer block: pre-norm attention and pre-norm SwiGLU, each added to the
//! residual stream.

use llamaforge_autograd::Var;

use super::{Attention, KvTensors, Mlp, RmsNorm};

/// `model.layers.{i}`: input_layernorm, self_attn, post_attention_layernorm, mlp.
pub struct Block {
    pub input_layernorm: RmsNorm,
    pub self_attn: Attention,
    pub post_attention_layernorm: RmsNorm,
    pub mlp: Mlp,
}

impl Block {
    /// `x` `[B, T, C]` → `[B, T, C]`.
    pub fn forward(&self, x: &Var, pos_offset: usize) -> Var {
        self.forward_cached(x, pos_offset, None, None)
    }

    /// [`Block::forward`] of left-padded rows (`left_pad` B entries) with this block's
    /// attention reading and extending a KV cache (see [`Attention::forward_cached`]).
    pub fn forward_cached(
        &self,
        x: &Var,
        pos_offset: usize,
        left_pad: Option<&[usize]>,
        cache: Option<(&mut KvTensors, usize)>,
    ) -> Var {
        let attn = self.self_attn.forward_cached(&self.input_layernorm.forward(x), pos_offset, left_pad, cache);
        let x = x.add(&attn);
        x.add(&self.mlp.forward(&self.post_attention_layernorm.forward(&x)))
    }
}
