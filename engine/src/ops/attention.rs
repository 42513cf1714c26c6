//! Fused causal grouped-query attention and its backward kernel.

use crate::cpu::attention::AttnDims;
use crate::{backend, Tensor};

/// Validates q `[B,Tq,H,D]`, k and v `[B,Tk,KV,D]` and returns the problem sizes.
#[track_caller]
fn attn_dims(op: &str, q: &Tensor, k: &Tensor, v: &Tensor, causal: bool) -> AttnDims {
    let (qs, ks, vs) = (q.shape(), k.shape(), v.shape());
    assert!(
        qs.len() == 4 && ks.len() == 4 && ks == vs && qs[0] == ks[0] && qs[3] == ks[3],
        "{op}: q must be [B,Tq,H,D] and k, v [B,Tk,KV,D] with equal B and D, got {qs:?}, {ks:?}, {vs:?}"
    );
    let dims = AttnDims { b: qs[0], tq: qs[1], tk: ks[1], h: qs[2], kv: ks[2], d: qs[3] };
    assert!(
        dims.kv > 0 && dims.h.is_multiple_of(dims.kv),
        "{op}: {} query heads do not split into {} kv heads",
        dims.h,
        dims.kv
    );
    assert!(!causal || dims.tk >= dims.tq, "{op}: causal attention needs Tk ({}) ≥ Tq ({})", dims.tk, dims.tq);
    for t in [k, v] {
        assert_eq!(q.dtype(), t.dtype(), "{op}: dtype mismatch {} vs {}", q.dtype(), t.dtype());
    }
    dims
}

impl Tensor {
    /// `softmax(q·kᵀ · scale [+ causal mask]) · v` per head without materializing the
    /// `[T, T]` scores. q `[B,Tq,H,D]`, k and v `[B,Tk,KV,D]` (query head `h` uses kv head
    /// `h / (H/KV)`) → `(out [B,Tq,H,D], lse [B,H,Tq])`; `lse` (the row log-sum-exp) is
    /// what the backward kernel needs.
    #[track_caller]
    pub fn attention(q: &Tensor, k: &Tensor, v: &Tensor, causal: bool, scale: f64) -> (Tensor, Tensor) {
        let dims = attn_dims("attention", q, k, v, causal);
        backend::attention(q, k, v, dims, causal, scale)
    }

    /// Gradients `(dq, dk, dv)` of [`Tensor::attention`] given its inputs, its `out` and
    /// `lse`, and the output gradient `dout` `[B,Tq,H,D]`.
    #[allow(clippy::too_many_arguments)]
    #[track_caller]
    pub fn attention_backward(
        q: &Tensor,
        k: &Tensor,
        v: &Tensor,
        out: &Tensor,
        lse: &Tensor,
        dout: &Tensor,
        causal: bool,
        scale: f64,
    ) -> (Tensor, Tensor, Tensor) {
        let dims = attn_dims("attention_backward", q, k, v, causal);
        assert!(
            out.shape() == q.shape() && dout.shape() == q.shape(),
            "attention_backward: out/dout must match q {:?}",
            q.shape()
        );
        assert_eq!(lse.shape(), [dims.b, dims.h, dims.tq], "attention_backward: lse must be [B,H,Tq]");
        backend::attention_backward(q, k, v, out, lse, dout, dims, causal, scale)
    }
}
