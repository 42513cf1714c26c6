//! One transformer block: pre-norm attention and pre-norm SwiGLU, each added to the
//! residual stream.

use llamaforge_autograd::Var;

use super::{Attention, Mlp, RmsNorm};

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
        let x = x.add(&self.self_attn.forward(&self.input_layernorm.forward(x), pos_offset));
        x.add(&self.mlp.forward(&self.post_attention_layernorm.forward(&x)))
    }
}
