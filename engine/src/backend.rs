//! Backend dispatch: the one place that matches on `Storage` and on dtype. Shape checks
//! happen before this (in `ops/`); functions here assume valid, broadcast inputs.
//!
//! A new backend adds a `Storage` variant and one arm per function below. The GPU arm
//! (`on_gpu!`) comes first: when any operand lives on a GPU the op runs there (host
//! operands such as the constants of a backward rule are uploaded); nothing falls back
//! to the CPU.

use crate::cpu;
use crate::{AdamWParams, BinaryOp, CpuStorage, DType, Device, Element, Layout, ReduceOp, Storage, Tensor, UnaryOp};

#[track_caller]
fn cpu_of(t: &Tensor) -> &CpuStorage {
    match t.storage() {
        Storage::Cpu(s) => s,
        Storage::Gpu(_) => panic!("internal: a CPU kernel was given a {} tensor", t.device()),
    }
}

/// Runs `$gpu` (an expression over `crate::gpu::kernels` as `k`) when any of the
/// tensors lives on a GPU.
macro_rules! on_gpu {
    ([$($t:expr),*], |$k:ident| $gpu:expr) => {
        #[cfg(feature = "gpu")]
        if crate::gpu::kernels::target(&[$($t),*]).is_some() {
            use crate::gpu::kernels as $k;
            return $gpu;
        }
    };
}

/// Host copies of u32 ids and the device their tensor was on (ops that take only ids,
/// like one_hot, produce their output there).
pub(crate) struct Ids {
    values: Vec<u32>,
    #[cfg_attr(not(feature = "gpu"), allow(dead_code))]
    device: Device,
}

impl std::ops::Deref for Ids {
    type Target = [u32];
    fn deref(&self) -> &[u32] {
        &self.values
    }
}

fn new_cpu(data: CpuStorage, shape: &[usize]) -> Tensor {
    Tensor::from_storage(Storage::Cpu(data), Layout::contiguous(shape))
}

/// Runs `$body` with `$v` bound to the float slice of `$t` as `&[T]`, producing a
/// `Vec<T>` wrapped back into a tensor of `$shape`. Panics (naming `$op`) for u32.
macro_rules! float_op {
    ($op:expr, $t:expr, $shape:expr, |$v:ident| $body:expr) => {
        match cpu_of($t) {
            CpuStorage::F32($v) => new_cpu(CpuStorage::F32($body), $shape),
            CpuStorage::F64($v) => new_cpu(CpuStorage::F64($body), $shape),
            CpuStorage::U32(_) => panic!("{}: not defined for u32 tensors", $op),
        }
    };
}

/// Contiguous u32 ids of an index tensor.
#[track_caller]
pub(crate) fn ids_of(op: &str, ids: &Tensor) -> Ids {
    assert_eq!(ids.dtype(), DType::U32, "{op}: index tensor must be u32, got {}", ids.dtype());
    Ids { values: ids.to_vec::<u32>(), device: ids.device() }
}

pub(crate) fn contiguous(t: &Tensor) -> Tensor {
    on_gpu!([t], |k| k::copy::contiguous(t));
    let shape = t.shape();
    match cpu_of(t) {
        CpuStorage::F32(v) => new_cpu(CpuStorage::F32(cpu::strided::to_contiguous(v, t.layout())), shape),
        CpuStorage::F64(v) => new_cpu(CpuStorage::F64(cpu::strided::to_contiguous(v, t.layout())), shape),
        CpuStorage::U32(v) => new_cpu(CpuStorage::U32(cpu::strided::to_contiguous(v, t.layout())), shape),
    }
}

pub(crate) fn to_dtype(t: &Tensor, dtype: DType) -> Tensor {
    on_gpu!([t], |k| k::copy::to_dtype(t, dtype));
    let c = t.contiguous();
    let data = match cpu_of(&c) {
        CpuStorage::F32(v) => {
            let v = &v[c.layout().offset()..c.layout().offset() + c.numel()];
            match dtype {
                DType::F32 => CpuStorage::F32(v.to_vec()),
                DType::F64 => CpuStorage::F64(v.iter().map(|&x| x as f64).collect()),
                DType::U32 => CpuStorage::U32(v.iter().map(|&x| x as u32).collect()),
            }
        }
        CpuStorage::F64(v) => {
            let v = &v[c.layout().offset()..c.layout().offset() + c.numel()];
            match dtype {
                DType::F32 => CpuStorage::F32(v.iter().map(|&x| x as f32).collect()),
                DType::F64 => CpuStorage::F64(v.to_vec()),
                DType::U32 => CpuStorage::U32(v.iter().map(|&x| x as u32).collect()),
            }
        }
        CpuStorage::U32(v) => {
            let v = &v[c.layout().offset()..c.layout().offset() + c.numel()];
            match dtype {
                DType::F32 => CpuStorage::F32(v.iter().map(|&x| x as f32).collect()),
                DType::F64 => CpuStorage::F64(v.iter().map(|&x| x as f64).collect()),
                DType::U32 => CpuStorage::U32(v.to_vec()),
            }
        }
    };
    new_cpu(data, t.shape())
}

pub(crate) fn unary(op: UnaryOp, x: &Tensor) -> Tensor {
    on_gpu!([x], |k| k::elementwise::unary(op, x));
    float_op!(op.op().name(), x, x.shape(), |v| cpu::elementwise::unary(op, v, x.layout()))
}

/// `a` and `b` already broadcast to the same shape and dtype.
pub(crate) fn binary(op: BinaryOp, a: &Tensor, b: &Tensor) -> Tensor {
    on_gpu!([a, b], |k| k::elementwise::binary(op, a, b));
    match (cpu_of(a), cpu_of(b)) {
        (CpuStorage::F32(x), CpuStorage::F32(y)) => {
            new_cpu(CpuStorage::F32(cpu::elementwise::binary(op, x, a.layout(), y, b.layout())), a.shape())
        }
        (CpuStorage::F64(x), CpuStorage::F64(y)) => {
            new_cpu(CpuStorage::F64(cpu::elementwise::binary(op, x, a.layout(), y, b.layout())), a.shape())
        }
        _ => panic!("{}: unsupported dtypes {} and {}", op.op().name(), a.dtype(), b.dtype()),
    }
}

/// Reduces axis 1 of `x` viewed as contiguous `[outer, n, inner]`.
pub(crate) fn reduce(op: ReduceOp, x: &Tensor, outer: usize, n: usize, inner: usize, out_shape: &[usize]) -> Tensor {
    on_gpu!([x], |k| k::reduce::reduce(op, x, outer, n, inner, out_shape));
    let x = x.contiguous();
    let name = match op {
        ReduceOp::Sum => "sum",
        ReduceOp::Max => "max",
    };
    let off = x.layout().offset();
    float_op!(name, &x, out_shape, |v| cpu::reduce::reduce(op, &v[off..off + x.numel()], outer, n, inner))
}

/// `a` `[batch.., M, K]` and `b` `[batch.., K, N]` with equal (broadcast) batch dims.
pub(crate) fn matmul(a: &Tensor, b: &Tensor, out_shape: &[usize]) -> Tensor {
    on_gpu!([a, b], |k| k::matmul::matmul(a, b, out_shape));
    match (cpu_of(a), cpu_of(b)) {
        (CpuStorage::F32(x), CpuStorage::F32(y)) => {
            new_cpu(CpuStorage::F32(cpu::matmul::matmul(x, a.layout(), y, b.layout())), out_shape)
        }
        (CpuStorage::F64(x), CpuStorage::F64(y)) => {
            new_cpu(CpuStorage::F64(cpu::matmul::matmul(x, a.layout(), y, b.layout())), out_shape)
        }
        _ => panic!("matmul: unsupported dtypes {} and {}", a.dtype(), b.dtype()),
    }
}

/// Contiguous float data of `t` as `&[T]` for kernels that need it, by dtype.
macro_rules! with_contiguous {
    ($t:expr, |$v:ident : f32| $b32:expr, |$w:ident : f64| $b64:expr) => {{
        let c = $t.contiguous();
        let off = c.layout().offset();
        let n = c.numel();
        match cpu_of(&c) {
            CpuStorage::F32(s) => {
                let $v = &s[off..off + n];
                $b32
            }
            CpuStorage::F64(s) => {
                let $w = &s[off..off + n];
                $b64
            }
            CpuStorage::U32(_) => panic!("expected a float tensor, got u32"),
        }
    }};
}

/// Same-shape `cond`, `a`, `b` (cond in the float dtype of a and b).
pub(crate) fn where_cond(cond: &Tensor, a: &Tensor, b: &Tensor) -> Tensor {
    on_gpu!([cond, a, b], |k| k::elementwise::where_cond(cond, a, b));
    let (c, a2, b2) = (cond.contiguous(), a.contiguous(), b.contiguous());
    let shape = a.shape();
    match (cpu_of(&c), cpu_of(&a2), cpu_of(&b2)) {
        (CpuStorage::F32(c), CpuStorage::F32(x), CpuStorage::F32(y)) => new_cpu(
            CpuStorage::F32(cpu::index::where_cond(
                &c[cond_range(&cond.contiguous())],
                &x[cond_range(&a2)],
                &y[cond_range(&b2)],
            )),
            shape,
        ),
        (CpuStorage::F64(c), CpuStorage::F64(x), CpuStorage::F64(y)) => new_cpu(
            CpuStorage::F64(cpu::index::where_cond(
                &c[cond_range(&cond.contiguous())],
                &x[cond_range(&a2)],
                &y[cond_range(&b2)],
            )),
            shape,
        ),
        _ => panic!("where: cond, a, b must share one float dtype ({}, {}, {})", cond.dtype(), a.dtype(), b.dtype()),
    }
}

fn cond_range(t: &Tensor) -> std::ops::Range<usize> {
    t.layout().contiguous_range().expect("contiguous")
}

pub(crate) fn gather(x: &Tensor, ids: &Ids, out_shape: &[usize]) -> Tensor {
    on_gpu!([x], |k| k::index::gather(x, ids, out_shape));
    let v = *x.shape().last().unwrap_or(&1);
    with_contiguous!(x, |s: f32| new_cpu(CpuStorage::F32(cpu::index::gather(s, v, ids)), out_shape), |s: f64| new_cpu(
        CpuStorage::F64(cpu::index::gather(s, v, ids)),
        out_shape
    ))
}

pub(crate) fn one_hot(ids: &Ids, classes: usize, dtype: DType, out_shape: &[usize]) -> Tensor {
    #[cfg(feature = "gpu")]
    if let Device::Gpu(ordinal) = ids.device {
        let ctx = crate::gpu::GpuContext::get(ordinal).expect("the ids tensor is on this GPU");
        return crate::gpu::kernels::index::one_hot(&ctx, ids, classes, dtype, out_shape);
    }
    match dtype {
        DType::F32 => new_cpu(CpuStorage::F32(cpu::index::one_hot(ids, classes)), out_shape),
        DType::F64 => new_cpu(CpuStorage::F64(cpu::index::one_hot(ids, classes)), out_shape),
        DType::U32 => panic!("one_hot: output dtype must be a float type"),
    }
}

pub(crate) fn index_select(table: &Tensor, ids: &Ids, out_shape: &[usize]) -> Tensor {
    on_gpu!([table], |k| k::index::index_select(table, ids, out_shape));
    let c = table.shape()[1];
    with_contiguous!(
        table,
        |s: f32| new_cpu(CpuStorage::F32(cpu::index::index_select(s, c, ids)), out_shape),
        |s: f64| new_cpu(CpuStorage::F64(cpu::index::index_select(s, c, ids)), out_shape)
    )
}

pub(crate) fn scatter_add(src: &Tensor, ids: &Ids, rows: usize) -> Tensor {
    on_gpu!([src], |k| k::index::scatter_add(src, ids, rows));
    let c = src.shape()[1];
    with_contiguous!(
        src,
        |s: f32| new_cpu(CpuStorage::F32(cpu::index::scatter_add(s, c, ids, rows)), &[rows, c]),
        |s: f64| new_cpu(CpuStorage::F64(cpu::index::scatter_add(s, c, ids, rows)), &[rows, c])
    )
}

/// Parts are contiguous, viewed as `[outer, width_i]`.
pub(crate) fn concat(parts: &[Tensor], outer: usize, out_shape: &[usize]) -> Tensor {
    #[cfg(feature = "gpu")]
    if crate::gpu::kernels::target(&parts.iter().collect::<Vec<_>>()).is_some() {
        return crate::gpu::kernels::copy::concat(parts, outer, out_shape);
    }
    let parts: Vec<Tensor> = parts.iter().map(|p| p.contiguous()).collect();
    let width = |p: &Tensor| p.numel().checked_div(outer).unwrap_or(0);
    match parts[0].dtype() {
        DType::F32 => {
            let slices: Vec<(&[f32], usize)> =
                parts.iter().map(|p| (p.as_slice::<f32>().expect("f32"), width(p))).collect();
            new_cpu(CpuStorage::F32(cpu::index::concat(&slices, outer)), out_shape)
        }
        DType::F64 => {
            let slices: Vec<(&[f64], usize)> =
                parts.iter().map(|p| (p.as_slice::<f64>().expect("f64"), width(p))).collect();
            new_cpu(CpuStorage::F64(cpu::index::concat(&slices, outer)), out_shape)
        }
        DType::U32 => panic!("concat: u32 tensors are not supported"),
    }
}

pub(crate) fn softmax(x: &Tensor, causal: Option<usize>) -> Tensor {
    on_gpu!([x], |k| k::fused::softmax(x, causal));
    let tk = *x.shape().last().unwrap_or(&1);
    with_contiguous!(x, |s: f32| new_cpu(CpuStorage::F32(cpu::softmax::softmax(s, tk, causal)), x.shape()), |s: f64| {
        new_cpu(CpuStorage::F64(cpu::softmax::softmax(s, tk, causal)), x.shape())
    })
}

pub(crate) fn log_softmax(x: &Tensor) -> Tensor {
    on_gpu!([x], |k| k::fused::log_softmax(x));
    let v = *x.shape().last().unwrap_or(&1);
    with_contiguous!(
        x,
        |s: f32| new_cpu(CpuStorage::F32(cpu::softmax::log_softmax(s, v)), x.shape()),
        |s: f64| new_cpu(CpuStorage::F64(cpu::softmax::log_softmax(s, v)), x.shape())
    )
}

/// Returns the mean loss (rank-0) and the number of counted rows.
pub(crate) fn cross_entropy(logits: &Tensor, targets: &Ids, ignore_index: u32) -> (Tensor, usize) {
    on_gpu!([logits], |k| k::fused::cross_entropy(logits, targets, ignore_index));
    let v = logits.shape()[1];
    with_contiguous!(
        logits,
        |s: f32| {
            let (loss, n) = cpu::cross_entropy::cross_entropy(s, v, targets, ignore_index);
            (new_cpu(CpuStorage::F32(vec![loss]), &[]), n)
        },
        |s: f64| {
            let (loss, n) = cpu::cross_entropy::cross_entropy(s, v, targets, ignore_index);
            (new_cpu(CpuStorage::F64(vec![loss]), &[]), n)
        }
    )
}

/// `d loss / d logits` of the mean cross-entropy, times the upstream scalar `grad`.
pub(crate) fn cross_entropy_backward(logits: &Tensor, targets: &Ids, ignore_index: u32, grad: f64) -> Tensor {
    on_gpu!([logits], |k| k::fused::cross_entropy_backward(logits, targets, ignore_index, grad));
    let v = logits.shape()[1];
    with_contiguous!(
        logits,
        |s: f32| new_cpu(
            CpuStorage::F32(cpu::cross_entropy::cross_entropy_backward(s, v, targets, ignore_index, grad)),
            logits.shape()
        ),
        |s: f64| new_cpu(
            CpuStorage::F64(cpu::cross_entropy::cross_entropy_backward(s, v, targets, ignore_index, grad)),
            logits.shape()
        )
    )
}

pub(crate) fn rms_norm(x: &Tensor, w: &Tensor, eps: f64) -> Tensor {
    on_gpu!([x, w], |k| k::fused::rms_norm(x, w, eps));
    let w = w.contiguous();
    with_contiguous!(
        x,
        |s: f32| new_cpu(
            CpuStorage::F32(cpu::rmsnorm::rms_norm(
                s,
                w.as_slice::<f32>().expect("rms_norm: weight must be f32 like x"),
                eps
            )),
            x.shape()
        ),
        |s: f64| new_cpu(
            CpuStorage::F64(cpu::rmsnorm::rms_norm(
                s,
                w.as_slice::<f64>().expect("rms_norm: weight must be f64 like x"),
                eps
            )),
            x.shape()
        )
    )
}

/// The data of a contiguous CPU tensor as `&[T]`; panics (naming `op`) for another dtype.
#[track_caller]
fn slice_of<'a, T: Element>(op: &str, t: &'a Tensor) -> &'a [T] {
    t.as_slice::<T>().unwrap_or_else(|| panic!("{op}: operands must be contiguous {} tensors", t.dtype()))
}

/// Gradients of RMSNorm: `x`, `g` `[.., C]` and `w` `[C]` of one float dtype → `(dx, dw)`.
pub(crate) fn rms_norm_backward(x: &Tensor, w: &Tensor, g: &Tensor, eps: f64) -> (Tensor, Tensor) {
    on_gpu!([x, w, g], |k| k::fused::rms_norm_backward(x, w, g, eps));
    let (xc, wc, gc) = (x.contiguous(), w.contiguous(), g.contiguous());
    macro_rules! run {
        ($t:ty, $variant:ident) => {{
            let s = |t| slice_of::<$t>("rms_norm_backward", t);
            let (dx, dw) = cpu::rmsnorm::rms_norm_backward(s(&xc), s(&wc), s(&gc), eps);
            (new_cpu(CpuStorage::$variant(dx), x.shape()), new_cpu(CpuStorage::$variant(dw), w.shape()))
        }};
    }
    match x.dtype() {
        DType::F32 => run!(f32, F32),
        DType::F64 => run!(f64, F64),
        DType::U32 => panic!("rms_norm_backward: not defined for u32 tensors"),
    }
}

pub(crate) fn rope(x: &Tensor, pos_offset: usize, row_offsets: Option<&[i64]>, theta: f64, inverse: bool) -> Tensor {
    on_gpu!([x], |k| k::fused::rope(x, pos_offset, row_offsets, theta, inverse));
    let (t, h, d) = (x.shape()[1], x.shape()[2], x.shape()[3]);
    with_contiguous!(
        x,
        |s: f32| new_cpu(
            CpuStorage::F32(cpu::rope::rope(s, t, h, d, pos_offset, row_offsets, theta, inverse)),
            x.shape()
        ),
        |s: f64| new_cpu(
            CpuStorage::F64(cpu::rope::rope(s, t, h, d, pos_offset, row_offsets, theta, inverse)),
            x.shape()
        )
    )
}

pub(crate) fn swiglu(a: &Tensor, b: &Tensor) -> Tensor {
    on_gpu!([a, b], |k| k::elementwise::swiglu(a, b));
    let b = b.contiguous();
    with_contiguous!(
        a,
        |s: f32| new_cpu(
            CpuStorage::F32(cpu::swiglu::swiglu(s, b.as_slice::<f32>().expect("swiglu: b must be f32 like a"))),
            a.shape()
        ),
        |s: f64| new_cpu(
            CpuStorage::F64(cpu::swiglu::swiglu(s, b.as_slice::<f64>().expect("swiglu: b must be f64 like a"))),
            a.shape()
        )
    )
}

/// Gradients of SwiGLU: same-shape `a`, `b`, `g` of one float dtype → `(da, db)`.
pub(crate) fn swiglu_backward(a: &Tensor, b: &Tensor, g: &Tensor) -> (Tensor, Tensor) {
    on_gpu!([a, b, g], |k| k::elementwise::swiglu_backward(a, b, g));
    let (ac, bc, gc) = (a.contiguous(), b.contiguous(), g.contiguous());
    macro_rules! run {
        ($t:ty, $variant:ident) => {{
            let s = |t| slice_of::<$t>("swiglu_backward", t);
            let (da, db) = cpu::swiglu::swiglu_backward(s(&ac), s(&bc), s(&gc));
            (new_cpu(CpuStorage::$variant(da), a.shape()), new_cpu(CpuStorage::$variant(db), a.shape()))
        }};
    }
    match a.dtype() {
        DType::F32 => run!(f32, F32),
        DType::F64 => run!(f64, F64),
        DType::U32 => panic!("swiglu_backward: not defined for u32 tensors"),
    }
}

/// In place when `p`, `m`, `v` are uniquely owned and contiguous; otherwise they are
/// replaced by updated copies.
pub(crate) fn adamw(p: &mut Tensor, g: &Tensor, m: &mut Tensor, v: &mut Tensor, hp: AdamWParams) {
    on_gpu!([&*p, g, &*m, &*v], |k| k::fused::adamw(p, g, m, v, hp));
    for t in [&mut *p, &mut *m, &mut *v] {
        if t.storage_mut().is_none() {
            *t = contiguous(t);
        }
    }
    let g = g.contiguous();
    let (Some(Storage::Cpu(ps)), Some(Storage::Cpu(ms)), Some(Storage::Cpu(vs))) =
        (p.storage_mut(), m.storage_mut(), v.storage_mut())
    else {
        unreachable!("made unique above")
    };
    match (ps, cpu_of(&g), ms, vs) {
        (CpuStorage::F32(p), CpuStorage::F32(g2), CpuStorage::F32(m), CpuStorage::F32(v)) => {
            cpu::adamw::adamw(p, &g2[cond_range(&g)], m, v, hp)
        }
        (CpuStorage::F64(p), CpuStorage::F64(g2), CpuStorage::F64(m), CpuStorage::F64(v)) => {
            cpu::adamw::adamw(p, &g2[cond_range(&g)], m, v, hp)
        }
        _ => panic!("adamw: param, grad and moments must share one float dtype"),
    }
}

/// Contiguous `[B,Tq,H,D]` q and `[B,Tk,KV,D]` k, v → `(out [B,Tq,H,D], lse [B,H,Tq])`.
pub(crate) fn attention(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    dims: cpu::attention::AttnDims,
    causal: bool,
    kv_start: Option<&[u32]>,
    scale: f64,
) -> (Tensor, Tensor) {
    on_gpu!([q, k, v], |kernels| kernels::attention::attention(q, k, v, dims, causal, kv_start, scale));
    let (q, k, v) = (q.contiguous(), k.contiguous(), v.contiguous());
    let lse_shape = [dims.b, dims.h, dims.tq];
    macro_rules! run {
        ($t:ty, $variant:ident) => {{
            let (o, l) = cpu::attention::attention::<$t>(
                q.as_slice().expect("contiguous"),
                k.as_slice().expect("contiguous"),
                v.as_slice().expect("contiguous"),
                dims,
                causal,
                kv_start,
                scale,
            );
            (new_cpu(CpuStorage::$variant(o), q.shape()), new_cpu(CpuStorage::$variant(l), &lse_shape))
        }};
    }
    match q.dtype() {
        DType::F32 => run!(f32, F32),
        DType::F64 => run!(f64, F64),
        DType::U32 => panic!("attention: not defined for u32 tensors"),
    }
}

/// Gradients of attention w.r.t. q, k, v.
#[allow(clippy::too_many_arguments)]
pub(crate) fn attention_backward(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    out: &Tensor,
    lse: &Tensor,
    dout: &Tensor,
    dims: cpu::attention::AttnDims,
    causal: bool,
    kv_start: Option<&[u32]>,
    scale: f64,
) -> (Tensor, Tensor, Tensor) {
    on_gpu!([q, k, v, out, lse, dout], |kernels| {
        kernels::attention::attention_backward(q, k, v, out, lse, dout, dims, causal, kv_start, scale)
    });
    let c = |t: &Tensor| t.contiguous();
    let (q, k, v, out, lse, dout) = (c(q), c(k), c(v), c(out), c(lse), c(dout));
    macro_rules! run {
        ($t:ty, $variant:ident) => {{
            let s = |t: &Tensor| -> Vec<$t> { t.as_slice::<$t>().expect("contiguous, same dtype").to_vec() };
            let (dq, dk, dv) = cpu::attention::attention_backward::<$t>(
                &s(&q),
                &s(&k),
                &s(&v),
                &s(&out),
                &s(&lse),
                &s(&dout),
                dims,
                causal,
                kv_start,
                scale,
            );
            (
                new_cpu(CpuStorage::$variant(dq), q.shape()),
                new_cpu(CpuStorage::$variant(dk), k.shape()),
                new_cpu(CpuStorage::$variant(dv), v.shape()),
            )
        }};
    }
    match q.dtype() {
        DType::F32 => run!(f32, F32),
        DType::F64 => run!(f64, F64),
        DType::U32 => panic!("attention_backward: not defined for u32 tensors"),
    }
}
