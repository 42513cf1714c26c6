//! Fused kernels: softmax / log_softmax (shaders/softmax.wgsl), cross_entropy and its
//! backward, rms_norm and its backward, rope and the AdamW update, each one launch
//! (cross_entropy and rms_norm_backward two).

use std::sync::Arc;

use super::{buf, copy, grid_1d, grid_rows, on, output, require_f32, target, upload, GpuContext, Params};
use crate::gpu::{gpu_entry, GpuStorage};
use crate::{AdamWParams, CpuStorage, Layout, Op, Storage, Tensor};

/// A contiguous, offset-0 version of `t`.
fn dense(t: &Tensor) -> Tensor {
    if t.layout().is_contiguous() && t.layout().offset() == 0 {
        t.clone()
    } else {
        copy::contiguous(t)
    }
}

/// Softmax over the last dim; `causal` is `Some(tq)` for a causal mask over `[.., Tq, Tk]`.
#[track_caller]
pub(crate) fn softmax(x: &Tensor, causal: Option<usize>) -> Tensor {
    last_dim(Op::Softmax, x, causal.unwrap_or(0))
}

#[track_caller]
pub(crate) fn log_softmax(x: &Tensor) -> Tensor {
    last_dim(Op::LogSoftmax, x, 0)
}

fn last_dim(op: Op, x: &Tensor, tq: usize) -> Tensor {
    let ctx = target(&[x]).expect("gpu operand");
    require_f32(op.name(), x);
    let x = dense(x);
    let tk = *x.shape().last().unwrap_or(&1);
    let rows = x.numel().checked_div(tk).unwrap_or(0);
    let out = output(&ctx, x.dtype(), x.shape());
    let (shader, entry) = gpu_entry(op);
    let p = Params::new().u(rows).u(tk).u(tq).u(0);
    ctx.launch(shader, entry, &p.0, &[(1, buf(&x)), (2, buf(&out))], grid_rows(rows));
    out
}

/// Checks host targets and returns the number of counted rows.
#[track_caller]
fn check_targets(op: &str, targets: &[u32], ignore_index: u32, v: usize) -> usize {
    for (i, &t) in targets.iter().enumerate() {
        assert!(
            t == ignore_index || (t as usize) < v,
            "{op}: target {t} at position {i} is out of range for {v} classes"
        );
    }
    targets.iter().filter(|&&t| t != ignore_index).count()
}

fn upload_u32(ctx: &Arc<GpuContext>, v: &[u32]) -> Tensor {
    let s = GpuStorage::upload(ctx, &CpuStorage::U32(v.to_vec())).expect("u32 upload");
    Tensor::from_storage(Storage::Gpu(s), Layout::contiguous(&[v.len()]))
}

/// Mean loss (rank 0) of logits `[N, V]` against host targets, and the counted rows.
#[track_caller]
pub(crate) fn cross_entropy(logits: &Tensor, targets: &[u32], ignore_index: u32) -> (Tensor, usize) {
    let ctx = target(&[logits]).expect("gpu operand");
    require_f32("cross_entropy", logits);
    let (rows, v) = (logits.shape()[0], logits.shape()[1]);
    let count = check_targets("cross_entropy", targets, ignore_index, v);
    let inv_count = if count == 0 { 0.0 } else { 1.0 / count as f64 };
    let (logits, targets_t) = (dense(logits), upload_u32(&ctx, targets));
    let losses = output(&ctx, logits.dtype(), &[rows]);
    let loss = output(&ctx, logits.dtype(), &[]);
    let (shader, entry) = gpu_entry(Op::CrossEntropy);
    let p = Params::new().u(rows).u(v).u(ignore_index as usize).f(inv_count);
    let bindings = [(1, buf(&logits)), (2, buf(&targets_t)), (3, buf(&losses))];
    ctx.launch(shader, entry, &p.0, &bindings, grid_rows(rows));
    ctx.launch(shader, "op_cross_entropy_mean", &p.0, &[(3, buf(&losses)), (4, buf(&loss))], [1, 1, 1]);
    (loss, count)
}

/// d loss / d logits `[N, V]` of the mean cross-entropy, times the upstream `grad`.
#[track_caller]
pub(crate) fn cross_entropy_backward(logits: &Tensor, targets: &[u32], ignore_index: u32, grad: f64) -> Tensor {
    let ctx = target(&[logits]).expect("gpu operand");
    require_f32("cross_entropy_backward", logits);
    let (rows, v) = (logits.shape()[0], logits.shape()[1]);
    let count = check_targets("cross_entropy_backward", targets, ignore_index, v);
    let scale = if count == 0 { 0.0 } else { grad / count as f64 };
    let (logits, targets_t) = (dense(logits), upload_u32(&ctx, targets));
    let dlogits = output(&ctx, logits.dtype(), logits.shape());
    let (shader, entry) = gpu_entry(Op::CrossEntropyBackward);
    let p = Params::new().u(rows).u(v).u(ignore_index as usize).f(scale);
    let bindings = [(1, buf(&logits)), (2, buf(&targets_t)), (5, buf(&dlogits))];
    ctx.launch(shader, entry, &p.0, &bindings, grid_rows(rows));
    dlogits
}

/// RMSNorm over the last dim with weight `[C]`.
#[track_caller]
pub(crate) fn rms_norm(x: &Tensor, w: &Tensor, eps: f64) -> Tensor {
    let ctx = target(&[x, w]).expect("gpu operand");
    let (x, w) = (dense(&on(&ctx, x)), dense(&on(&ctx, w)));
    require_f32("rms_norm", &x);
    require_f32("rms_norm", &w);
    let c = w.numel();
    let rows = x.numel().checked_div(c).unwrap_or(0);
    let out = output(&ctx, x.dtype(), x.shape());
    let (shader, entry) = gpu_entry(Op::RmsNorm);
    let p = Params::new().u(rows).u(c).f(eps).u(0);
    ctx.launch(shader, entry, &p.0, &[(1, buf(&x)), (2, buf(&w)), (3, buf(&out))], grid_rows(rows));
    out
}

/// Gradients `(dx [rows, C], dw [C])` of RMSNorm for x and grad `[.., C]`, weight `[C]`.
#[track_caller]
pub(crate) fn rms_norm_backward(x: &Tensor, w: &Tensor, g: &Tensor, eps: f64) -> (Tensor, Tensor) {
    let ctx = target(&[x, w, g]).expect("gpu operand");
    let (x, w, g) = (dense(&on(&ctx, x)), dense(&on(&ctx, w)), dense(&on(&ctx, g)));
    for t in [&x, &w, &g] {
        require_f32("rms_norm_backward", t);
    }
    let c = w.numel();
    let rows = x.numel().checked_div(c).unwrap_or(0);
    let (dx, dw) = (output(&ctx, x.dtype(), x.shape()), output(&ctx, w.dtype(), w.shape()));
    let rstd = output(&ctx, x.dtype(), &[rows]);
    let (shader, entry) = gpu_entry(Op::RmsNormBackward);
    let p = Params::new().u(rows).u(c).f(eps).u(0);
    let bindings = [(1, buf(&x)), (2, buf(&w)), (4, buf(&g)), (5, buf(&dx)), (6, buf(&rstd))];
    ctx.launch(shader, entry, &p.0, &bindings, grid_rows(rows));
    // one workgroup per column sums over the rows in a fixed order (zeros when there are none)
    let bindings = [(1, buf(&x)), (4, buf(&g)), (6, buf(&rstd)), (7, buf(&dw))];
    ctx.launch(shader, "op_rms_norm_backward_dw", &p.0, &bindings, grid_rows(c));
    (dx, dw)
}

/// Upload of an f32 host vector.
fn upload_f32(ctx: &Arc<GpuContext>, v: Vec<f32>) -> Tensor {
    let n = v.len();
    let s = GpuStorage::upload(ctx, &CpuStorage::F32(v)).expect("f32 upload");
    Tensor::from_storage(Storage::Gpu(s), Layout::contiguous(&[n]))
}

/// Rotary embedding of `[B, T, H, D]` at positions `pos_offset..pos_offset+T`, shifted per
/// batch row by `row_offsets` (see `Tensor::rope`): one table spans every row's positions
/// and each row reads it from its own start (`row_shift` `[B]`).
#[track_caller]
pub(crate) fn rope(x: &Tensor, pos_offset: usize, row_offsets: Option<&[i64]>, theta: f64, inverse: bool) -> Tensor {
    let ctx = target(&[x]).expect("gpu operand");
    require_f32("rope", x);
    let x = dense(x);
    let (t_len, h, d) = (x.shape()[1], x.shape()[2], x.shape()[3]);
    let half = d / 2;
    let min_offset = row_offsets.and_then(|o| o.iter().copied().min()).unwrap_or(0);
    let shifts: Option<Vec<u32>> = row_offsets.map(|o| {
        o.iter()
            .map(|&r| u32::try_from(r - min_offset).expect("rope: row offsets span more than 2^32 positions"))
            .collect()
    });
    let span = t_len + shifts.iter().flatten().copied().max().unwrap_or(0) as usize;
    // the angle table in f64, like the CPU kernel, so both round the same values to f32
    let sign = if inverse { -1.0 } else { 1.0 };
    let (mut cos, mut sin) = (Vec::with_capacity(span * half), Vec::with_capacity(span * half));
    let start = pos_offset as i64 + min_offset;
    for t in 0..span as i64 {
        for i in 0..half {
            let angle = (start + t) as f64 * theta.powf(-2.0 * i as f64 / d as f64);
            cos.push(angle.cos() as f32);
            sin.push((sign * angle.sin()) as f32);
        }
    }
    let (cos, sin) = (upload_f32(&ctx, cos), upload_f32(&ctx, sin));
    // unshifted, the shader never reads `row_shift`: bind the input there, upload nothing
    let row_shift = match shifts {
        Some(s) => {
            let n = s.len();
            upload(&ctx, &Tensor::from_vec(s, &[n])).unwrap_or_else(|e| panic!("rope: cannot upload shifts: {e}"))
        }
        None => x.clone(),
    };
    let out = output(&ctx, x.dtype(), x.shape());
    let pairs = x.numel() / 2;
    let (shader, entry) = gpu_entry(Op::Rope);
    let p = Params::new().u(pairs).u(t_len).u(h).u(half.max(1)).u(row_offsets.is_some() as usize);
    let bindings = [(1, buf(&x)), (2, buf(&cos)), (3, buf(&sin)), (4, buf(&out)), (5, buf(&row_shift))];
    ctx.launch(shader, entry, &p.0, &bindings, grid_1d(pairs));
    out
}

/// In place when `t` owns its buffer alone and covers it; otherwise `t` becomes a copy.
fn make_unique(t: &mut Tensor) {
    let unique = t.storage_mut().is_some() && matches!(t.storage(), Storage::Gpu(g) if g.is_unique());
    if !unique {
        *t = copy::contiguous(t);
    }
}

/// One AdamW step on `p` with gradient `g` and moments `m`, `v`.
#[track_caller]
pub(crate) fn adamw(p: &mut Tensor, g: &Tensor, m: &mut Tensor, v: &mut Tensor, hp: AdamWParams) {
    let ctx = target(&[&*p, g, &*m, &*v]).expect("gpu operand");
    for t in [&mut *p, &mut *m, &mut *v] {
        if !matches!(t.storage(), Storage::Gpu(_)) {
            *t = on(&ctx, t);
        }
        require_f32("adamw", t);
        make_unique(t);
    }
    let g = dense(&on(&ctx, g));
    require_f32("adamw", &g);
    let step = hp.step as i32;
    let params = Params::new()
        .u(p.numel())
        .f(hp.lr)
        .f(hp.beta1)
        .f(hp.beta2)
        .f(hp.eps)
        .f(1.0 - hp.lr * hp.weight_decay)
        .f(1.0 - hp.beta1.powi(step))
        .f(1.0 - hp.beta2.powi(step));
    let (shader, entry) = gpu_entry(Op::AdamW);
    let bindings = [(1, buf(p)), (2, buf(&g)), (3, buf(m)), (4, buf(v))];
    ctx.launch(shader, entry, &params.0, &bindings, grid_1d(p.numel()));
}
