//! Elementwise kernels (shaders/elementwise.wgsl): unary, binary with broadcasting,
//! SwiGLU and where; and SwiGLU's backward (shaders/swiglu_backward.wgsl). Operands are
//! read through their layouts, no copies.

use super::{buf, grid_1d, on, output, require_f32, target, Params};
use crate::gpu::gpu_entry;
use crate::{BinaryOp, Layout, Op, Tensor, UnaryOp};

/// Parameters for up to three operand layouts (unused ones empty) and two scalars.
fn params(a: &Layout, b: Option<&Layout>, cond: Option<&Layout>, f0: f64, f1: f64, numel: usize) -> Params {
    let empty = Layout::contiguous(&[]);
    Params::new().layout(a).layout(b.unwrap_or(&empty)).layout(cond.unwrap_or(&empty)).f(f0).f(f1).u(numel).u(0)
}

#[track_caller]
pub(crate) fn unary(op: UnaryOp, x: &Tensor) -> Tensor {
    let ctx = target(&[x]).expect("gpu operand");
    let name = op.op().name();
    require_f32(name, x);
    let (f0, f1) = match op {
        UnaryOp::Affine { mul, add } => (mul, add),
        UnaryOp::Clamp { lo, hi } => (lo, hi),
        UnaryOp::Powf(p) => (p, 0.0),
        _ => (0.0, 0.0),
    };
    let out = output(&ctx, x.dtype(), x.shape());
    let (shader, entry) = gpu_entry(op.op());
    let p = params(x.layout(), None, None, f0, f1, x.numel());
    ctx.launch(shader, entry, &p.0, &[(1, buf(x)), (3, buf(&out))], grid_1d(x.numel()));
    out
}

/// `a`, `b` already broadcast to one shape.
#[track_caller]
pub(crate) fn binary(op: BinaryOp, a: &Tensor, b: &Tensor) -> Tensor {
    two_operand(op.op(), a, b)
}

#[track_caller]
pub(crate) fn swiglu(a: &Tensor, b: &Tensor) -> Tensor {
    two_operand(Op::SwiGlu, a, b)
}

/// `(da, dup)` of `silu(a) · up` for the output gradient `g`, all one shape.
#[track_caller]
pub(crate) fn swiglu_backward(a: &Tensor, up: &Tensor, g: &Tensor) -> (Tensor, Tensor) {
    let ctx = target(&[a, up, g]).expect("gpu operand");
    let (a, up, g) = (on(&ctx, a), on(&ctx, up), on(&ctx, g));
    for t in [&a, &up, &g] {
        require_f32("swiglu_backward", t);
    }
    let (da, dup) = (output(&ctx, a.dtype(), a.shape()), output(&ctx, a.dtype(), a.shape()));
    let (shader, entry) = gpu_entry(Op::SwiGluBackward);
    let p = Params::new().layout(a.layout()).layout(up.layout()).layout(g.layout()).u(a.numel());
    let bindings = [(1, buf(&a)), (2, buf(&up)), (3, buf(&g)), (4, buf(&da)), (5, buf(&dup))];
    ctx.launch(shader, entry, &p.0, &bindings, grid_1d(a.numel()));
    (da, dup)
}

#[track_caller]
fn two_operand(op: Op, a: &Tensor, b: &Tensor) -> Tensor {
    let ctx = target(&[a, b]).expect("gpu operand");
    let (a, b) = (on(&ctx, a), on(&ctx, b));
    require_f32(op.name(), &a);
    require_f32(op.name(), &b);
    let out = output(&ctx, a.dtype(), a.shape());
    let (shader, entry) = gpu_entry(op);
    let p = params(a.layout(), Some(b.layout()), None, 0.0, 0.0, a.numel());
    ctx.launch(shader, entry, &p.0, &[(1, buf(&a)), (2, buf(&b)), (3, buf(&out))], grid_1d(a.numel()));
    out
}

/// `cond > 0 ? a : b`, all three already broadcast to one shape.
#[track_caller]
pub(crate) fn where_cond(cond: &Tensor, a: &Tensor, b: &Tensor) -> Tensor {
    let ctx = target(&[cond, a, b]).expect("gpu operand");
    let (cond, a, b) = (on(&ctx, cond), on(&ctx, a), on(&ctx, b));
    for t in [&cond, &a, &b] {
        require_f32("where", t);
    }
    let out = output(&ctx, a.dtype(), a.shape());
    let (shader, entry) = gpu_entry(Op::Where);
    let p = params(a.layout(), Some(b.layout()), Some(cond.layout()), 0.0, 0.0, a.numel());
    let bindings = [(1, buf(&a)), (2, buf(&b)), (3, buf(&out)), (4, buf(&cond))];
    ctx.launch(shader, entry, &p.0, &bindings, grid_1d(a.numel()));
    out
}
