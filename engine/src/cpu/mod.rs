//! The CPU backend: rayon over rows/batches, matrixmultiply for GEMM, and run-time
//! selected AVX2/AVX-512 code for the fused kernels (see `simd`).
//!
//! Kernels take plain slices (contiguous unless a `Layout` is passed) and return fresh
//! contiguous buffers; the dtype dispatch lives in `crate::backend`.

pub mod adamw;
pub mod attention;
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

/// Tunes glibc's allocator for tensor workloads: buffers of a few MB are allocated and freed
/// by every op, and by default glibc serves each with a fresh `mmap` whose pages fault in
/// one by one (about 3 µs per 4 KiB page here) and returns them on free. Keeping freed
/// memory in the heap instead makes the next same-sized buffer free of page faults. Call
/// once at program start (the CLI does); a no-op on other platforms.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // glibc's mallopt parameter numbers (malloc.h)
        const M_TRIM_THRESHOLD: i32 = -1;
        const M_MMAP_THRESHOLD: i32 = -3;
        extern "C" {
            fn mallopt(param: i32, value: i32) -> i32;
        }
        // SAFETY: mallopt only changes allocator tuning parameters; it is safe to call at
        // any time from any thread and takes plain integers.
        unsafe {
            mallopt(M_MMAP_THRESHOLD, 1 << 30);
            mallopt(M_TRIM_THRESHOLD, i32::MAX);
        }
    }
}
