//! Fused grouped-query attention and its gradients (shaders/attention*.wgsl).

use std::sync::Arc;

use super::{buf, copy, on, output, require_f32, target, upload, Params};
use crate::cpu::attention::AttnDims;
use crate::gpu::{gpu_entry, GpuContext};
use crate::{Op, Tensor};

/// Head dims a thread's accumulator holds (`MAX_D` in the shaders).
const MAX_D: usize = 256;
/// Threads per workgroup of the attention kernels.
const WG: usize = 64;

fn dense(t: &Tensor) -> Tensor {
    if t.layout().is_contiguous() && t.layout().offset() == 0 {
        t.clone()
    } else {
        copy::contiguous(t)
    }
}

fn params(dims: AttnDims, causal: bool, padded: bool, scale: f64) -> Params {
    Params::new()
        .u(dims.b)
        .u(dims.tq)
        .u(dims.tk)
        .u(dims.h)
        .u(dims.kv)
        .u(dims.d)
        .u(causal as usize)
        .f(scale)
        .u(padded as usize)
}

/// The buffer bound as `kv_start` `[B]` (u32): the uploaded mask, or — unpadded, where the
/// shaders never read it — `fallback`, an operand already bound read-only, so the
/// unpadded path uploads nothing.
fn kv_start_buffer(ctx: &Arc<GpuContext>, kv_start: Option<&[u32]>, fallback: &Tensor) -> Tensor {
    match kv_start {
        Some(starts) => {
            let host = Tensor::from_vec(starts.to_vec(), &[starts.len()]);
            upload(ctx, &host).unwrap_or_else(|e| panic!("attention: cannot upload kv_start: {e}"))
        }
        None => fallback.clone(),
    }
}

/// Workgroups for one thread per row, folded into 2-D past 65535 groups.
fn grid(rows: usize) -> [u32; 3] {
    let groups = rows.div_ceil(WG);
    if groups == 0 {
        return [0, 0, 0];
    }
    let x = groups.min(65535);
    [x as u32, groups.div_ceil(x) as u32, 1]
}

#[track_caller]
fn prepare(op: &str, ts: &[&Tensor], dims: AttnDims) -> Vec<Tensor> {
    assert!(dims.d <= MAX_D, "{op}: head dim {} exceeds the GPU kernel's {MAX_D}", dims.d);
    let ctx = target(ts).expect("gpu operand");
    ts.iter()
        .map(|t| {
            let t = dense(&on(&ctx, t));
            require_f32(op, &t);
            t
        })
        .collect()
}

/// q `[B,Tq,H,D]`, k, v `[B,Tk,KV,D]`, optional `kv_start` `[B]` → `(out [B,Tq,H,D],
/// lse [B,H,Tq])`.
#[track_caller]
pub(crate) fn attention(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    dims: AttnDims,
    causal: bool,
    kv_start: Option<&[u32]>,
    scale: f64,
) -> (Tensor, Tensor) {
    let ctx = target(&[q, k, v]).expect("gpu operand");
    let t = prepare("attention", &[q, k, v], dims);
    let starts = kv_start_buffer(&ctx, kv_start, &t[0]);
    let out = output(&ctx, t[0].dtype(), t[0].shape());
    let lse = output(&ctx, t[0].dtype(), &[dims.b, dims.h, dims.tq]);
    let (shader, entry) = gpu_entry(Op::Attention);
    let bindings =
        [(1, buf(&t[0])), (2, buf(&t[1])), (3, buf(&t[2])), (4, buf(&out)), (5, buf(&lse)), (6, buf(&starts))];
    let p = params(dims, causal, kv_start.is_some(), scale);
    ctx.launch(shader, entry, &p.0, &bindings, grid(dims.b * dims.h * dims.tq));
    (out, lse)
}

/// Gradients `(dq, dk, dv)` of attention from its inputs, `out`, `lse` and `dout`.
#[allow(clippy::too_many_arguments)]
#[track_caller]
pub(crate) fn attention_backward(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    out: &Tensor,
    lse: &Tensor,
    dout: &Tensor,
    dims: AttnDims,
    causal: bool,
    kv_start: Option<&[u32]>,
    scale: f64,
) -> (Tensor, Tensor, Tensor) {
    let ctx = target(&[q, k, v, out, lse, dout]).expect("gpu operand");
    let t = prepare("attention_backward", &[q, k, v, out, lse, dout], dims);
    let (q, k, v, out, lse, dout) = (&t[0], &t[1], &t[2], &t[3], &t[4], &t[5]);
    let starts = kv_start_buffer(&ctx, kv_start, q);
    let delta = output(&ctx, q.dtype(), &[dims.b, dims.h, dims.tq]);
    let (dq, dk, dv) =
        (output(&ctx, q.dtype(), q.shape()), output(&ctx, k.dtype(), k.shape()), output(&ctx, v.dtype(), v.shape()));
    let (shader, entry) = gpu_entry(Op::AttentionBackward);
    let p = params(dims, causal, kv_start.is_some(), scale);
    let rows = grid(dims.b * dims.h * dims.tq);
    ctx.launch(shader, "op_attention_backward_delta", &p.0, &[(4, buf(out)), (6, buf(dout)), (7, buf(&delta))], rows);
    let common =
        [(1, buf(q)), (2, buf(k)), (3, buf(v)), (5, buf(lse)), (6, buf(dout)), (7, buf(&delta)), (11, buf(&starts))];
    let mut b = common.to_vec();
    b.push((8, buf(&dq)));
    ctx.launch(shader, entry, &p.0, &b, rows);
    let mut b = common.to_vec();
    b.extend([(9, buf(&dk)), (10, buf(&dv))]);
    ctx.launch(shader, "op_attention_backward_dkv", &p.0, &b, grid(dims.b * dims.kv * dims.tk));
    (dq, dk, dv)
}
