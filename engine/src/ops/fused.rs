//! Fused kernels: softmax, log_softmax, cross_entropy, rms_norm, rope, swiglu, adamw, and
//! the backward kernels of cross_entropy, rms_norm and swiglu. Each has a composite oracle
//! it is tested against (tests/fused_oracles.rs, tests/gradcheck.rs).
//!
//! A backward kernel with two gradients (rms_norm's dx and dweight, swiglu's da and dup)
//! is one op returning two tensors, as `attention_backward` returns three: both come from
//! the same per-element values, so one pass computes them together; packing them into one
//! `[2, ..]` buffer would not fit rms_norm (`[.., C]` and `[C]`) and would make the
//! gradients views that keep each other's memory alive.

use crate::{backend, AdamWParams, Tensor};

impl Tensor {
    /// Softmax over the last dim. With `causal`, the input is `[.., Tq, Tk]` and key `j` is
    /// hidden from query `i` when `j > i + (Tk - Tq)`; hidden entries are exactly 0.
    #[track_caller]
    pub fn softmax(&self, causal: bool) -> Tensor {
        assert!(self.rank() >= 1, "softmax: needs at least 1 dim, got a scalar");
        let causal = if causal {
            assert!(self.rank() >= 2, "softmax(causal): needs [.., Tq, Tk], got {:?}", self.shape());
            let (tq, tk) = (self.shape()[self.rank() - 2], self.shape()[self.rank() - 1]);
            assert!(tk >= tq, "softmax(causal): Tk ({tk}) must be ≥ Tq ({tq}) in shape {:?}", self.shape());
            Some(tq)
        } else {
            None
        };
        backend::softmax(self, causal)
    }

    /// `x - logsumexp(x)` over the last dim.
    #[track_caller]
    pub fn log_softmax(&self) -> Tensor {
        assert!(self.rank() >= 1, "log_softmax: needs at least 1 dim, got a scalar");
        backend::log_softmax(self)
    }

    /// Mean cross-entropy of `self` `[N, V]` logits against u32 `targets` `[N]`, skipping
    /// rows whose target is `ignore_index`. Returns a rank-0 tensor (0 if all are ignored).
    #[track_caller]
    pub fn cross_entropy(&self, targets: &Tensor, ignore_index: u32) -> Tensor {
        assert!(
            self.rank() == 2 && targets.shape() == [self.shape()[0]],
            "cross_entropy: logits must be [N, V] and targets [N], got {:?} and {:?}",
            self.shape(),
            targets.shape()
        );
        backend::cross_entropy(self, &backend::ids_of("cross_entropy", targets), ignore_index).0
    }

    /// The gradient of [`Tensor::cross_entropy`] w.r.t. `self` (the `[N, V]` logits), scaled
    /// by the upstream gradient `grad` (a one-element tensor).
    #[track_caller]
    pub fn cross_entropy_backward(&self, targets: &Tensor, ignore_index: u32, grad: &Tensor) -> Tensor {
        assert!(
            self.rank() == 2 && targets.shape() == [self.shape()[0]],
            "cross_entropy_backward: logits must be [N, V] and targets [N], got {:?} and {:?}",
            self.shape(),
            targets.shape()
        );
        let ids = backend::ids_of("cross_entropy_backward", targets);
        backend::cross_entropy_backward(self, &ids, ignore_index, grad.to_scalar())
    }

    /// Number of targets that are not `ignore_index` (the denominator of cross_entropy).
    pub fn count_not_ignored(targets: &Tensor, ignore_index: u32) -> usize {
        backend::ids_of("cross_entropy", targets).iter().filter(|&&t| t != ignore_index).count()
    }

    /// RMSNorm over the last dim: `x / sqrt(mean(x²) + eps) * weight`, weight `[C]`.
    #[track_caller]
    pub fn rms_norm(&self, weight: &Tensor, eps: f64) -> Tensor {
        assert!(
            weight.rank() == 1 && self.shape().last() == Some(&weight.shape()[0]),
            "rms_norm: weight {:?} does not match the last dim of {:?}",
            weight.shape(),
            self.shape()
        );
        backend::rms_norm(self, weight, eps)
    }

    /// The gradients of [`Tensor::rms_norm`] w.r.t. `self` (x `[.., C]`) and `weight` `[C]`
    /// given the output gradient `grad` (shape of x): `(dx [.., C], dweight [C])`. With
    /// `r = 1/sqrt(mean(x²) + eps)` per row and `x̂ = x·r`: `dweight = Σ_rows grad·x̂` and
    /// `dx = r·(grad·w − x̂·mean(grad·w·x̂))`. `dweight` is summed in a fixed order, so it
    /// is the same bits from run to run.
    #[track_caller]
    pub fn rms_norm_backward(&self, weight: &Tensor, grad: &Tensor, eps: f64) -> (Tensor, Tensor) {
        assert!(
            weight.rank() == 1 && self.shape().last() == Some(&weight.shape()[0]),
            "rms_norm_backward: weight {:?} does not match the last dim of {:?}",
            weight.shape(),
            self.shape()
        );
        assert_eq!(
            grad.shape(),
            self.shape(),
            "rms_norm_backward: grad {:?} differs from x {:?}",
            grad.shape(),
            self.shape()
        );
        for (name, t) in [("weight", weight), ("grad", grad)] {
            assert_eq!(t.dtype(), self.dtype(), "rms_norm_backward: {name} is {} but x is {}", t.dtype(), self.dtype());
        }
        backend::rms_norm_backward(self, weight, grad, eps)
    }

    /// Rotary embedding of `[B, T, H, D]` (interleaved pairs) at positions
    /// `pos_offset..pos_offset+T`, shifted per batch row by `row_offsets[b]` when given (B
    /// entries, negative allowed): left padding passes `−pad[b]` so each row's first real
    /// token sits at `pos_offset`, as HF derives position ids from the attention mask (the
    /// pads get negative positions, rotated like any other: finite, and masked anyway).
    /// `inverse` undoes it (and is its backward).
    #[track_caller]
    pub fn rope(&self, pos_offset: usize, row_offsets: Option<&[i64]>, theta: f64, inverse: bool) -> Tensor {
        assert!(
            self.rank() == 4 && self.shape()[3].is_multiple_of(2),
            "rope: input must be [B, T, H, D] with even D, got {:?}",
            self.shape()
        );
        if let Some(offsets) = row_offsets {
            assert_eq!(
                offsets.len(),
                self.shape()[0],
                "rope: {} row offsets for a batch of {}",
                offsets.len(),
                self.shape()[0]
            );
        }
        backend::rope(self, pos_offset, row_offsets, theta, inverse)
    }

    /// `silu(self) * gate_up`, same shapes (the SwiGLU gate of the LLaMA MLP).
    #[track_caller]
    pub fn swiglu(&self, up: &Tensor) -> Tensor {
        assert_eq!(self.shape(), up.shape(), "swiglu: shapes {:?} and {:?} differ", self.shape(), up.shape());
        assert_eq!(self.dtype(), up.dtype(), "swiglu: dtypes {} and {} differ", self.dtype(), up.dtype());
        backend::swiglu(self, up)
    }

    /// The gradients of [`Tensor::swiglu`] w.r.t. `self` (the gate pre-activation `a`) and
    /// `up`, given the output gradient `grad`, all the same shape: with `s = σ(a)`,
    /// `(da, dup) = (grad·up·s·(1 + a·(1 − s)), grad·a·s)`.
    #[track_caller]
    pub fn swiglu_backward(&self, up: &Tensor, grad: &Tensor) -> (Tensor, Tensor) {
        for (name, t) in [("up", up), ("grad", grad)] {
            assert_eq!(
                t.shape(),
                self.shape(),
                "swiglu_backward: {name} {:?} differs from a {:?}",
                t.shape(),
                self.shape()
            );
            assert_eq!(t.dtype(), self.dtype(), "swiglu_backward: {name} is {} but a is {}", t.dtype(), self.dtype());
        }
        backend::swiglu_backward(self, up, grad)
    }

    /// One AdamW step on `param` with gradient `grad` and moments `m`, `v` (all the same
    /// shape), in place when the buffers are not shared.
    #[track_caller]
    pub fn adamw(param: &mut Tensor, grad: &Tensor, m: &mut Tensor, v: &mut Tensor, hp: AdamWParams) {
        for (name, t) in [("grad", grad), ("m", &*m), ("v", &*v)] {
            assert_eq!(
                param.shape(),
                t.shape(),
                "adamw: {name} shape {:?} differs from param {:?}",
                t.shape(),
                param.shape()
            );
        }
        backend::adamw(param, grad, m, v, hp)
    }
}
