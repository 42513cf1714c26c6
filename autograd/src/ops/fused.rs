//! Fused ops and their backward rules (fused backward kernels or composites of engine ops).

use llamaforge_engine::{Op, Tensor};

use crate::Var;

impl Var {
    /// Softmax over the last dim, optionally causal. `dx = y · (g − Σ g·y)`; masked entries
    /// have `y = 0` and so get no gradient.
    #[track_caller]
    pub fn softmax(&self, causal: bool) -> Var {
        let y = self.value().softmax(causal);
        let y_saved = y.clone();
        Var::from_op(Op::Softmax, y, &[self], move |g| {
            let last = g.rank() - 1;
            let dot = g.mul(&y_saved).sum(last, true);
            vec![Some(y_saved.mul(&g.sub(&dot)))]
        })
    }

    /// Log-softmax over the last dim. `dx = g − softmax(x) · Σ g`.
    #[track_caller]
    pub fn log_softmax(&self) -> Var {
        let y = self.value().log_softmax();
        let y_saved = y.clone();
        Var::from_op(Op::LogSoftmax, y, &[self], move |g| {
            let last = g.rank() - 1;
            vec![Some(g.sub(&y_saved.exp().mul(&g.sum(last, true))))]
        })
    }

    /// Mean cross-entropy of `[N, V]` logits against u32 targets `[N]`, ignoring
    /// `ignore_index`. Backward: the fused `cross_entropy_backward` kernel,
    /// `(softmax(x) − onehot(t)) · valid / count · g`.
    #[track_caller]
    pub fn cross_entropy(&self, targets: &Tensor, ignore_index: u32) -> Var {
        let x = self.value();
        let loss = x.cross_entropy(targets, ignore_index);
        let targets = targets.clone();
        Var::from_op(Op::CrossEntropy, loss, &[self], move |g| {
            vec![Some(x.cross_entropy_backward(&targets, ignore_index, g))]
        })
    }

    /// RMSNorm over the last dim with gain `weight` `[C]`. Backward: the fused
    /// `rms_norm_backward` kernel; with `x̂ = x · r`, `r = 1/sqrt(mean(x²)+eps)`:
    /// `dw = Σ g·x̂`, `dx = r · (g·w − x̂ · mean(g·w·x̂))`.
    #[track_caller]
    pub fn rms_norm(&self, weight: &Var, eps: f64) -> Var {
        let (x, w) = (self.value(), weight.value());
        let y = x.rms_norm(&w, eps);
        Var::from_op(Op::RmsNorm, y, &[self, weight], move |g| {
            let (dx, dw) = x.rms_norm_backward(&w, g, eps);
            vec![Some(dx), Some(dw)]
        })
    }

    /// Rotary embedding of `[B, T, H, D]` at positions `pos_offset + row_offsets[b] + t`
    /// (see [`Tensor::rope`]); backward is the inverse rotation.
    #[track_caller]
    pub fn rope(&self, pos_offset: usize, row_offsets: Option<&[i64]>, theta: f64) -> Var {
        let y = self.value().rope(pos_offset, row_offsets, theta, false);
        let row_offsets = row_offsets.map(<[i64]>::to_vec);
        Var::from_op(Op::Rope, y, &[self], move |g| vec![Some(g.rope(pos_offset, row_offsets.as_deref(), theta, true))])
    }

    /// `silu(self) · up`. Backward: the fused `swiglu_backward` kernel,
    /// `da = g · up · σ(a)(1 + a(1 − σ(a)))`, `dup = g · silu(a)`.
    #[track_caller]
    pub fn swiglu(&self, up: &Var) -> Var {
        let (a, b) = (self.value(), up.value());
        Var::from_op(Op::SwiGlu, a.swiglu(&b), &[self, up], move |g| {
            let (da, dup) = a.swiglu_backward(&b, g);
            vec![Some(da), Some(dup)]
        })
    }
}
