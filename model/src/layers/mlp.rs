//! The SwiGLU feed-forward block: `down(silu(gate(x)) · up(x))` (Shazeer 2020).

use llamaforge_autograd::Var;

use super::linear;

/// `gate_proj` and `up_proj` are `[F, C]`, `down_proj` is `[C, F]` (llama2.c's w1, w3, w2).
pub struct Mlp {
    pub gate_proj: Var,
    pub up_proj: Var,
    pub down_proj: Var,
}

impl Mlp {
    /// `x` `[B, T, C]` → `[B, T, C]`.
    pub fn forward(&self, x: &Var) -> Var {
        let gate = linear(x, &self.gate_proj); // [B, T, F]
        let up = linear(x, &self.up_proj); // [B, T, F]
        let hidden = gate.swiglu(&up); // silu(gate) · up, fused
        linear(&hidden, &self.down_proj) // [B, T, C]
    }
}
