//! Batched GEMM (shaders/matmul.wgsl): 64×64 output tiles, 4×4 per thread. Transposed
//! operands and broadcast batch dims are read through their strides — no copies.

use super::{buf, on, output, require_f32, target, Params};
use crate::gpu::gpu_entry;
use crate::{Layout, Op, Tensor};

const TILE: usize = 64;

/// `a` `[batch.., M, K]` and `b` `[batch.., K, N]` with equal (broadcast) batch dims.
#[track_caller]
pub(crate) fn matmul(a: &Tensor, b: &Tensor, out_shape: &[usize]) -> Tensor {
    let ctx = target(&[a, b]).expect("gpu operand");
    let (a, b) = (on(&ctx, a), on(&ctx, b));
    require_f32("matmul", &a);
    require_f32("matmul", &b);
    let r = a.rank();
    let (m, k, n) = (a.shape()[r - 2], a.shape()[r - 1], b.shape()[r - 1]);
    let batch: usize = a.shape()[..r - 2].iter().product();
    let batch_layout = |t: &Tensor| {
        Layout::from_parts(t.shape()[..r - 2].to_vec(), t.layout().strides()[..r - 2].to_vec(), t.layout().offset())
    };
    let (sa, sb) = (a.layout().strides(), b.layout().strides());
    let p = Params::new()
        .layout(&batch_layout(&a))
        .layout(&batch_layout(&b))
        .u(m)
        .u(n)
        .u(k)
        .u(sa[r - 2])
        .u(sa[r - 1])
        .u(sb[r - 2])
        .u(sb[r - 1])
        .u(0);
    let out = output(&ctx, a.dtype(), out_shape);
    let (shader, entry) = gpu_entry(Op::Matmul);
    let groups = [n.div_ceil(TILE) as u32, m.div_ceil(TILE) as u32, batch as u32];
    ctx.launch(shader, entry, &p.0, &[(1, buf(&a)), (2, buf(&b)), (3, buf(&out))], groups);
    out
}
