//! Fused causal grouped-query attention and its backward kernel, with an optional
//! left-padding mask (`kv_start`).

use crate::cpu::attention::AttnDims;
use crate::{backend, Tensor};

/// Validates q `[B,Tq,H,D]`, k and v `[B,Tk,KV,D]` and the padding mask (`kv_start`: B
/// entries, each ≤ Tk), and returns the problem sizes.
#[track_caller]
fn attn_dims(op: &str, q: &Tensor, k: &Tensor, v: &Tensor, causal: bool, kv_start: Option<&[u32]>) -> AttnDims {
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
    if let Some(starts) = kv_start {
        assert_eq!(starts.len(), dims.b, "{op}: kv_start has {} entries for a batch of {}", starts.len(), dims.b);
        if let Some((row, &s)) = starts.iter().enumerate().find(|(_, &s)| s as usize > dims.tk) {
            panic!("{op}: kv_start[{row}] = {s} exceeds the {} keys", dims.tk);
        }
    }
    dims
}

impl Tensor {
    /// `softmax(q·kᵀ · scale [+ masks]) · v` per head without materializing the `[T, T]`
    /// scores. q `[B,Tq,H,D]`, k and v `[B,Tk,KV,D]` (query head `h` uses kv head
    /// `h / (H/KV)`) → `(out [B,Tq,H,D], lse [B,H,Tq])`; `lse` (the row log-sum-exp) is
    /// what the backward kernel needs.
    ///
    /// Masks: with `causal`, query `i` sees keys `j ≤ i + (Tk − Tq)` (a KV cache of
    /// `Tk − Tq` earlier positions works too). `kv_start` (B entries, each ≤ Tk) is the
    /// left-padding mask: in batch row `b`, keys `j < kv_start[b]` are hidden from every
    /// query. A host slice rather than a tensor, so it is validated without a GPU read-back;
    /// the GPU path uploads its B words. A query that sees no key at all (a pad query:
    /// `i + (Tk − Tq) < kv_start[b]` under `causal`) outputs 0 with `lse` = the dtype's
    /// largest finite value (an empty log-sum-exp is −∞; this keeps any recomputed
    /// `exp(s − lse)` at 0 and the tensor finite), and gets zero gradient. `None` runs the
    /// unpadded kernels unchanged.
    #[track_caller]
    pub fn attention(
        q: &Tensor,
        k: &Tensor,
        v: &Tensor,
        causal: bool,
        kv_start: Option<&[u32]>,
        scale: f64,
    ) -> (Tensor, Tensor) {
        let dims = attn_dims("attention", q, k, v, causal, kv_start);
        backend::attention(q, k, v, dims, causal, kv_start, scale)
    }

    /// Gradients `(dq, dk, dv)` of [`Tensor::attention`] given its inputs, its masks, its
    /// `out` and `lse`, and the output gradient `dout` `[B,Tq,H,D]`. Masked keys and pad
    /// queries get zero gradient.
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
        kv_start: Option<&[u32]>,
        scale: f64,
    ) -> (Tensor, Tensor, Tensor) {
        let dims = attn_dims("attention_backward", q, k, v, causal, kv_start);
        assert!(
            out.shape() == q.shape() && dout.shape() == q.shape(),
            "attention_backward: out/dout must match q {:?}",
            q.shape()
        );
        assert_eq!(lse.shape(), [dims.b, dims.h, dims.tq], "attention_backward: lse must be [B,H,Tq]");
        backend::attention_backward(q, k, v, out, lse, dout, dims, causal, kv_start, scale)
    }
}
