//! RMSNorm: `x / sqrt(mean(x²) + eps) · g` over the last dim — LayerNorm without the mean
//! subtraction and bias (Zhang & Sennrich 2019), as LLaMA uses before every sublayer.

use llamaforge_autograd::Var;

/// A gain vector `weight` `[C]` and the epsilon under the square root.
pub struct RmsNorm {
    pub weight: Var,
    pub eps: f64,
}

impl RmsNorm {
    /// `x` `[.., C]` → `[.., C]` (the engine's fused `rms_norm` op and its backward rule).
    pub fn forward(&self, x: &Var) -> Var {
        x.rms_norm(&self.weight, self.eps)
    }
}
