//! The CPU backend: rayon over rows/batches, matrixmultiply for GEMM.
//!
//! Kernels take plain slices (contiguous unless a `Layout` is passed) and return fresh
//! contiguous buffers; the dtype dispatch lives in `crate::backend`.

pub mod adamw;
pub mod cross_entropy;
pub mod elementwise;
pub mod index;
pub mod matmul;
pub mod reduce;
pub mod rmsnorm;
pub mod rope;
pub mod softmax;
pub mod strided;
pub mod swiglu;
