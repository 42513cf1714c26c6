//! The CPU backend: rayon over rows/batches, matrixmultiply for GEMM, and run-time
//! selected AVX2/AVX-512 code for the fused kernels (see `simd`).
//!
//! Kernels take plain slices (contiguous unless a `Layout` is passed) and return fresh
//! contiguous buffers; the dtype dispatch lives in `crate::backend`.

pub mod adamw;
pub mod cross_entropy;
pub mod elementwise;
pub mod exp;
pub mod index;
pub mod matmul;
pub mod reduce;
pub mod rmsnorm;
pub mod rope;
pub mod simd;
pub mod softmax;
pub mod strided;
pub mod swiglu;

/// Threads the row-parallel kernels run on (rayon's global pool).
pub fn num_threads() -> usize {
    rayon::current_num_threads()
}
