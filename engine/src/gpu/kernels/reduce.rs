//! Sum and max over one axis (shaders/reduce.wgsl), one workgroup per output element.

use super::{buf, copy, grid_rows, output, require_f32, target, Params};
use crate::gpu::gpu_entry;
use crate::{Op, ReduceOp, Tensor};

/// Reduces axis 1 of `x` viewed as contiguous `[outer, n, inner]`.
#[track_caller]
pub(crate) fn reduce(op: ReduceOp, x: &Tensor, outer: usize, n: usize, inner: usize, out_shape: &[usize]) -> Tensor {
    let ctx = target(&[x]).expect("gpu operand");
    let op = match op {
        ReduceOp::Sum => Op::Sum,
        ReduceOp::Max => Op::Max,
    };
    require_f32(op.name(), x);
    let x = if x.layout().is_contiguous() { x.clone() } else { copy::contiguous(x) };
    let x = if x.layout().offset() != 0 { copy::contiguous(&x) } else { x };
    let out = output(&ctx, x.dtype(), out_shape);
    let (shader, entry) = gpu_entry(op);
    let p = Params::new().u(outer).u(n).u(inner).u(0);
    ctx.launch(shader, entry, &p.0, &[(1, buf(&x)), (2, buf(&out))], grid_rows(outer * inner));
    out
}
