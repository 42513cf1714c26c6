//! Batched GEMM through matrixmultiply, with transposes expressed as strides (no copies).

use std::mem::MaybeUninit;

use rayon::prelude::*;

use crate::{Float, Layout};

/// Below this many multiply-adds a product runs on one thread (fork/join would cost more).
const PAR_MIN_FLOPS: usize = 1 << 18;

/// One GEMM problem of a batch: `C[m,n] = A[m,k] · B[k,n]` with arbitrary element strides.
#[derive(Clone, Copy)]
pub struct GemmDims {
    pub m: usize,
    pub k: usize,
    pub n: usize,
}

/// `a` is `[batch.., M, K]`, `b` is `[batch.., K, N]` (batch dims already broadcast to the
/// same shape, possibly with stride 0); returns the contiguous `[batch.., M, N]` product.
pub fn matmul<T: GemmElem>(a: &[T], la: &Layout, b: &[T], lb: &Layout) -> Vec<T> {
    let rank = la.rank();
    let (m, k, n) = (la.shape()[rank - 2], la.shape()[rank - 1], lb.shape()[rank - 1]);
    let batch_shape = &la.shape()[..rank - 2];
    let batch: usize = batch_shape.iter().product();
    if m * n == 0 {
        return Vec::new();
    }
    // The output is not zero-filled: matrixmultiply with β = 0 writes every element of C
    // without reading it (its documented contract, k == 0 included), and a zero-fill of
    // the logits alone was a 131 MB single-threaded memset per training step.
    let total = batch * m * n;
    let mut out: Vec<T> = Vec::with_capacity(total);
    let offset_of = |layout: &Layout, mut i: usize| {
        let mut off = layout.offset();
        for d in (0..rank - 2).rev() {
            off += (i % batch_shape[d]) * layout.strides()[d];
            i /= batch_shape[d];
        }
        off
    };
    let (rsa, csa) = (la.strides()[rank - 2] as isize, la.strides()[rank - 1] as isize);
    let (rsb, csb) = (lb.strides()[rank - 2] as isize, lb.strides()[rank - 1] as isize);
    let dims = GemmDims { m, k, n };
    let spare = &mut out.spare_capacity_mut()[..total];
    let one = |(i, c): (usize, &mut [MaybeUninit<T>])| {
        let (oa, ob) = (offset_of(la, i), offset_of(lb, i));
        T::gemm(dims, T::one(), (&a[oa..], rsa, csa), (&b[ob..], rsb, csb), c, n as isize);
    };
    // Threads come from rayon only (matrixmultiply's own `threading` feature is off: its
    // channel hand-off spun for half the time of a training step and oversubscribed the
    // cores when called from rayon workers). Many products: one per task. A few large
    // products: each one split across the pool (`gemm_split`).
    let threads = rayon::current_num_threads();
    if batch >= threads && batch > 1 {
        spare.par_chunks_mut(m * n).enumerate().for_each(one);
    } else {
        for (i, c) in spare.chunks_mut(m * n).enumerate() {
            let (oa, ob) = (offset_of(la, i), offset_of(lb, i));
            gemm_split(dims, (&a[oa..], rsa, csa), (&b[ob..], rsb, csb), c, threads);
        }
    }
    // SAFETY: `spare` is the first `total` slots of the capacity, split into `batch`
    // products of m·n slots, and each product's slots (split by rows, by columns or not at all) were passed to
    // a GEMM with β = 0, which writes all of them.
    unsafe { out.set_len(total) };
    out
}

/// One product split across `threads` rayon tasks (or run on this thread when small).
/// Every task packs its own share of the operands, so the split goes along the dimension
/// whose duplicated packing costs least: rows of C for tall products (each task packs all
/// of B; for a training step's m = B·T rows that is a small fraction of the work), columns
/// for wide ones (each task packs all of A; for the LM head's `[B·T, C] · [C, V]`,
/// n = 32000 ≫ m, splitting rows would make every task pack the whole 32000-column B).
fn gemm_split<T: GemmElem>(d: GemmDims, a: Strided<T>, b: Strided<T>, c: &mut [MaybeUninit<T>], threads: usize) {
    if threads <= 1 || d.m * d.n * d.k < PAR_MIN_FLOPS || d.m < 16 * threads {
        T::gemm(d, T::one(), a, b, c, d.n as isize);
    } else if d.n > d.m {
        gemm_split_cols(d, a, b, c, threads);
    } else {
        // rows per task, rounded to the 8/16-row micro-kernel height
        let rows = d.m.div_ceil(threads).next_multiple_of(16);
        let (a, rsa, csa) = a;
        c.par_chunks_mut(rows * d.n).enumerate().for_each(|(t, c_part)| {
            let part = GemmDims { m: c_part.len() / d.n, ..d };
            T::gemm(part, T::one(), (&a[t * rows * rsa as usize..], rsa, csa), b, c_part, d.n as isize);
        });
    }
}

/// [`gemm_split`] by columns of C: task t writes columns `t·cols..` of every row.
fn gemm_split_cols<T: GemmElem>(d: GemmDims, a: Strided<T>, b: Strided<T>, c: &mut [MaybeUninit<T>], threads: usize) {
    // columns per task, rounded to the micro-kernel width
    let cols = d.n.div_ceil(threads).next_multiple_of(16);
    let tasks = d.n.div_ceil(cols);
    let c_len = c.len();
    let c_base = SendPtr(c.as_mut_ptr().cast::<T>());
    let (b, rsb, csb) = b;
    (0..tasks).into_par_iter().for_each(|t| {
        let c0 = t * cols;
        let part = GemmDims { n: cols.min(d.n - c0), ..d };
        let b_part = &b[c0 * csb as usize..];
        // SAFETY: task t writes only columns c0..c0+part.n of every row of C, a set disjoint
        // from every other task's; the pointer stays inside the `c_len` slots of `c`
        // (checked again in `gemm_ptr`), which outlive the parallel loop; β = 0, so the
        // uninitialized slots are written, never read.
        unsafe {
            let base = c_base;
            T::gemm_ptr(part, T::one(), a, (b_part, rsb, csb), base.0.add(c0), c_len - c0, d.n as isize)
        };
    });
}

/// A raw output pointer shared by the column tasks of one product (each writes a disjoint
/// set of its elements).
#[derive(Clone, Copy)]
struct SendPtr<T>(*mut T);
// SAFETY: the tasks holding copies write disjoint elements (see `gemm_split_cols`).
unsafe impl<T> Send for SendPtr<T> {}
// SAFETY: as above.
unsafe impl<T> Sync for SendPtr<T> {}

/// A strided matrix operand: `(data, row stride, column stride)`.
pub type Strided<'a, T> = (&'a [T], isize, isize);

/// Element types matrixmultiply has kernels for: the one wrapper every CPU GEMM (batched
/// matmul, the fused attention blocks) goes through.
pub trait GemmElem: Float {
    /// `c = alpha · a·b` with `a` `[m, k]`, `b` `[k, n]`, `c` `[m, n]` of row stride `rsc`
    /// (column stride 1). `c` may be uninitialized: with β = 0 it is written, never read.
    fn gemm(d: GemmDims, alpha: Self, a: Strided<Self>, b: Strided<Self>, c: &mut [MaybeUninit<Self>], rsc: isize);

    /// [`GemmElem::gemm`] into a raw, possibly uninitialized `c` of `c_len` slots.
    ///
    /// # Safety
    /// `c` must be valid for writes of `c_len` elements, and no other thread may read or
    /// write the elements of C this product covers while it runs.
    unsafe fn gemm_ptr(
        d: GemmDims,
        alpha: Self,
        a: Strided<Self>,
        b: Strided<Self>,
        c: *mut Self,
        c_len: usize,
        rsc: isize,
    );

    /// `c = alpha · a·b + beta · c` on an initialized `c` (row stride `rsc`).
    fn gemm_acc(d: GemmDims, alpha: Self, a: Strided<Self>, b: Strided<Self>, beta: Self, c: &mut [Self], rsc: isize);
}

/// The furthest element a strided `[rows, cols]` matrix touches, for bounds checking.
fn extent(rows: usize, cols: usize, rs: isize, cs: isize) -> usize {
    if rows == 0 || cols == 0 {
        0
    } else {
        (rows - 1) * rs as usize + (cols - 1) * cs as usize + 1
    }
}

macro_rules! impl_gemm {
    ($t:ty, $f:path, $raw:ident) => {
        /// Checks bounds, then calls matrixmultiply.
        ///
        /// # Safety
        /// `c` must point to `c_len` elements valid for writes (and for reads when `beta`
        /// is not zero) that alias neither `a` nor `b`.
        #[allow(clippy::too_many_arguments)]
        unsafe fn $raw(
            d: GemmDims,
            alpha: $t,
            a: Strided<$t>,
            b: Strided<$t>,
            beta: $t,
            c: *mut $t,
            c_len: usize,
            rsc: isize,
        ) {
            assert!(a.0.len() >= extent(d.m, d.k, a.1, a.2) && b.0.len() >= extent(d.k, d.n, b.1, b.2));
            assert!(c_len >= extent(d.m, d.n, rsc, 1));
            // SAFETY: the asserts prove every element matrixmultiply touches through
            // (pointer, row stride, col stride) lies inside `a`, `b` and the `c_len`
            // elements at `c`; strides are non-negative; the caller guarantees `c` is valid
            // and unaliased. With β = 0 matrixmultiply writes C without reading it ("If β
            // is zero, then C does not need to be initialized", k == 0 included).
            unsafe { $f(d.m, d.k, d.n, alpha, a.0.as_ptr(), a.1, a.2, b.0.as_ptr(), b.1, b.2, beta, c, rsc, 1) }
        }

        impl GemmElem for $t {
            fn gemm(
                d: GemmDims,
                alpha: Self,
                a: Strided<Self>,
                b: Strided<Self>,
                c: &mut [MaybeUninit<Self>],
                rsc: isize,
            ) {
                // SAFETY: `c` is an exclusive borrow (so unaliased and writable) of `c.len()`
                // slots; `MaybeUninit<T>` has `T`'s layout; β = 0, so nothing is read.
                unsafe { $raw(d, alpha, a, b, 0.0, c.as_mut_ptr().cast::<$t>(), c.len(), rsc) }
            }

            unsafe fn gemm_ptr(
                d: GemmDims,
                alpha: Self,
                a: Strided<Self>,
                b: Strided<Self>,
                c: *mut Self,
                c_len: usize,
                rsc: isize,
            ) {
                // SAFETY: forwarded from the caller's contract; β = 0, so nothing is read.
                unsafe { $raw(d, alpha, a, b, 0.0, c, c_len, rsc) }
            }

            fn gemm_acc(
                d: GemmDims,
                alpha: Self,
                a: Strided<Self>,
                b: Strided<Self>,
                beta: Self,
                c: &mut [Self],
                rsc: isize,
            ) {
                // SAFETY: `c` is an exclusive borrow of initialized elements.
                unsafe { $raw(d, alpha, a, b, beta, c.as_mut_ptr(), c.len(), rsc) }
            }
        }
    };
}
impl_gemm!(f32, matrixmultiply::sgemm, sgemm_checked);
impl_gemm!(f64, matrixmultiply::dgemm, dgemm_checked);

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic pseudo-random matrix in `[-1, 1)`.
    fn values(len: usize, seed: u64) -> Vec<f32> {
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..len)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s >> 40) as f32 / (1u64 << 23) as f32 - 1.0
            })
            .collect()
    }

    /// Row-, column- and un-split products (odd sizes, transposed operands, 1–3 threads)
    /// against an f64 triple loop.
    #[test]
    fn split_products_match_a_naive_loop() {
        for threads in 1..=3 {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            // (m, k, n): tall (split rows), wide (split columns), small (one call)
            for &(m, k, n) in &[(203, 37, 65), (50, 29, 1001), (7, 5, 3), (64, 300, 64)] {
                for transpose_b in [false, true] {
                    let a = values(m * k, 1);
                    let b = values(k * n, 2);
                    let la = Layout::contiguous(&[m, k]);
                    // B stored [k, n], or stored [n, k] and viewed transposed
                    let lb = if transpose_b {
                        Layout::contiguous(&[n, k]).transpose(0, 1)
                    } else {
                        Layout::contiguous(&[k, n])
                    };
                    let got = pool.install(|| matmul(&a, &la, &b, &lb));
                    for i in 0..m {
                        for j in 0..n {
                            let want: f64 = (0..k)
                                .map(|p| {
                                    let bv = if transpose_b { b[j * k + p] } else { b[p * n + j] };
                                    a[i * k + p] as f64 * bv as f64
                                })
                                .sum();
                            let g = got[i * n + j] as f64;
                            assert!(
                                (g - want).abs() <= 1e-4 * (1.0 + want.abs()),
                                "[{m},{k}]·[{k},{n}] (Bᵀ {transpose_b}, {threads} threads) at ({i},{j}): {g} vs {want}"
                            );
                        }
                    }
                }
            }
        }
    }
}
