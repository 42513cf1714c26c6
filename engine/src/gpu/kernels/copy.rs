//! Data movement on the GPU: contiguous copies, concat and dtype casts (shaders/copy.wgsl).

use super::{buf, grid_1d, on, output, target, Params};
use crate::{DType, Tensor};

/// A contiguous copy of any layout (always a new buffer, even for contiguous input).
pub(crate) fn contiguous(t: &Tensor) -> Tensor {
    let ctx = target(&[t]).expect("gpu operand");
    let out = output(&ctx, t.dtype(), t.shape());
    let params = Params::new().layout(t.layout()).u(0).u(0).u(0).u(0);
    ctx.launch("copy", "op_contiguous", &params.0, &[(1, buf(t)), (2, buf(&out))], grid_1d(t.numel()));
    out
}

/// f32 ↔ u32 (truncating toward zero, negatives to 0, like `as u32`); f64 is refused.
#[track_caller]
pub(crate) fn to_dtype(t: &Tensor, dtype: DType) -> Tensor {
    let ctx = target(&[t]).expect("gpu operand");
    let entry = match (t.dtype(), dtype) {
        (DType::F32, DType::U32) => "cast_f32_to_u32",
        (DType::U32, DType::F32) => "cast_u32_to_f32",
        (from, to) => panic!("to_dtype: {from} → {to} is not available on the GPU, which computes in f32 and u32"),
    };
    let out = output(&ctx, dtype, t.shape());
    let params = Params::new().layout(t.layout()).u(0).u(0).u(0).u(0);
    ctx.launch("copy", entry, &params.0, &[(1, buf(t)), (2, buf(&out))], grid_1d(t.numel()));
    out
}

/// Joins `parts` (each viewed as `[outer, width_i]`) into `out_shape`.
pub(crate) fn concat(parts: &[Tensor], outer: usize, out_shape: &[usize]) -> Tensor {
    let refs: Vec<&Tensor> = parts.iter().collect();
    let ctx = target(&refs).expect("gpu operand");
    let out = output(&ctx, parts[0].dtype(), out_shape);
    let total = out.numel().checked_div(outer).unwrap_or(0);
    let mut at = 0;
    for part in parts {
        let part = on(&ctx, part);
        let width = part.numel().checked_div(outer).unwrap_or(0);
        let params = Params::new().layout(part.layout()).u(width.max(1)).u(total).u(at).u(0);
        ctx.launch("copy", "op_concat", &params.0, &[(1, buf(&part)), (2, buf(&out))], grid_1d(part.numel()));
        at += width;
    }
    out
}
