//! Matrix product with batch broadcasting; transposed operands are strided views.

use crate::layout::broadcast_shapes;
use crate::{backend, Tensor};

impl Tensor {
    /// `[.., M, K] · [.., K, N] → [.., M, N]`. Batch dims broadcast (a 2-D `rhs` is shared by
    /// every batch); either operand may be a transposed view — no copy is made.
    #[track_caller]
    pub fn matmul(&self, rhs: &Tensor) -> Tensor {
        let (a, b) = (self.shape(), rhs.shape());
        assert!(a.len() >= 2 && b.len() >= 2, "matmul: operands must be at least 2-D, got {a:?} and {b:?}");
        assert_eq!(self.dtype(), rhs.dtype(), "matmul: dtype mismatch {} vs {}", self.dtype(), rhs.dtype());
        let (m, k) = (a[a.len() - 2], a[a.len() - 1]);
        let (k2, n) = (b[b.len() - 2], b[b.len() - 1]);
        assert_eq!(k, k2, "matmul: inner dims differ, {a:?} · {b:?}");
        let Some(batch) = broadcast_shapes(&a[..a.len() - 2], &b[..b.len() - 2]) else {
            panic!("matmul: batch dims of {a:?} and {b:?} do not broadcast")
        };
        let mut sa = batch.clone();
        sa.extend([m, k]);
        let mut sb = batch.clone();
        sb.extend([k, n]);
        let mut out = batch;
        out.extend([m, n]);
        backend::matmul(&self.broadcast_to(&sa), &rhs.broadcast_to(&sb), &out)
    }
}
