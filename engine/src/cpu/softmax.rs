//! Fused softmax (optionally causal) and log-softmax over the last dim.
//!
//! f32 rows run the vectorized `*_row_f32` kernels below (fast exp, lane-array
//! reductions, AVX2/AVX-512 picked at run time); f64 rows keep the straightforward loops
//! with `f64::exp`, which the gradient checks rely on.

use std::mem::MaybeUninit;

use rayon::prelude::*;

use super::exp::exp_f32_with;
use super::simd::{as_f32, as_f32_mut, as_f32_uninit_mut, max_f32, simd_kernel, sum_map_f32, LANES};
use super::strided::PAR_MIN_ELEMS;
use crate::Float;

/// `x` is `[rows, tk]` contiguous, rows = outer·tq. With `causal = Some(tq)`, row `r` is
/// query `i = r % tq` and keys `j > i + (tk - tq)` get probability 0 (the mask that also
/// fits a KV cache holding `tk - tq` earlier positions).
///
/// The output is allocated uninitialized and every row writes all of its elements (the
/// visible part copied in and normalized in place while it is in L1, the masked tail
/// zeroed): a zeroing allocation was a single-threaded memset of the whole output, as
/// long as the softmax itself.
pub fn softmax<T: Float>(x: &[T], tk: usize, causal: Option<usize>) -> Vec<T> {
    scaled_softmax(x, tk, causal, |_| T::one())
}

/// [`softmax`] with row `r` multiplied by `scale(r)` in the same pass (cross-entropy's
/// backward folds its `g / count` in here instead of re-reading the whole output).
pub(crate) fn scaled_softmax<T: Float>(
    x: &[T],
    tk: usize,
    causal: Option<usize>,
    scale: impl Fn(usize) -> T + Sync,
) -> Vec<T> {
    let n = x.len();
    let mut out: Vec<T> = Vec::with_capacity(n);
    if tk == 0 || n == 0 {
        return out;
    }
    let visible_of = |r: usize| match causal {
        Some(tq) => (r % tq + 1 + tk - tq).min(tk),
        None => tk,
    };
    let row = |(r, dst): (usize, &mut [MaybeUninit<T>])| {
        let visible = visible_of(r);
        let (head, tail) = dst.split_at_mut(visible);
        for d in tail {
            d.write(T::zero());
        }
        let src = &x[r * tk..r * tk + visible];
        let scale = scale(r);
        if let (Some(src), Some(head)) = (as_f32(src), as_f32_uninit_mut(head)) {
            // T is f32 here, so the conversion is exact
            return softmax_row_f32(src, head, scale.to_f32().unwrap_or(f32::NAN));
        }
        for (d, &s) in head.iter_mut().zip(src) {
            d.write(s);
        }
        // SAFETY: every element of `head` was written just above, and `MaybeUninit<T>` has
        // the layout of `T`.
        softmax_in_place(unsafe { &mut *(head as *mut [MaybeUninit<T>] as *mut [T]) }, scale);
    };
    let spare = &mut out.spare_capacity_mut()[..n];
    if n >= PAR_MIN_ELEMS {
        // blocks of rows per task: one rayon task per row cost more than the row itself
        let rows_per_task = (PAR_MIN_ELEMS / 4 / tk).max(1);
        spare.par_chunks_mut(rows_per_task * tk).enumerate().for_each(|(b, block)| {
            block.chunks_mut(tk).enumerate().for_each(|(i, dst)| row((b * rows_per_task + i, dst)))
        });
    } else {
        spare.chunks_mut(tk).enumerate().for_each(row);
    }
    // SAFETY: the `n` slots are `n / tk` rows of `tk`, and each row wrote all of its slots.
    unsafe { out.set_len(n) };
    out
}

/// `row ← scale · softmax(row)` for f64 (and any non-f32) rows, with the element type's
/// own `exp`.
fn softmax_in_place<T: Float>(row: &mut [T], scale: T) {
    let max = row.iter().fold(T::neg_infinity(), |m, &v| m.max(v));
    let mut sum = T::zero();
    for d in row.iter_mut() {
        *d = (*d - max).exp();
        sum += *d;
    }
    let inv = scale / sum;
    for d in row.iter_mut() {
        *d *= inv;
    }
}

simd_kernel! {
    /// `dst = scale · softmax(src)` for one f32 row; `dst` may be uninitialized (all of it
    /// is written). Three passes over a row that stays in cache: max, exp-and-sum, scale.
    pub(crate) fn softmax_row_f32(src: &[f32], dst: &mut [MaybeUninit<f32>], scale: f32) {
        let max = max_f32(src);
        // one pass that both stores e^(x - max) and sums it, in LANES partial sums
        let mut acc = [0.0f32; LANES];
        let mut src_chunks = src.chunks_exact(LANES);
        let mut dst_chunks = dst.chunks_exact_mut(LANES);
        for (s, d) in (&mut src_chunks).zip(&mut dst_chunks) {
            for ((a, d), &s) in acc.iter_mut().zip(d.iter_mut()).zip(s) {
                *a += *d.write(exp_f32_with::<FMA>(s - max));
            }
        }
        let mut sum = acc.iter().sum::<f32>();
        for (d, &s) in dst_chunks.into_remainder().iter_mut().zip(src_chunks.remainder()) {
            sum += *d.write(exp_f32_with::<FMA>(s - max));
        }
        let inv = scale / sum;
        for d in dst.iter_mut() {
            // SAFETY: the loops above wrote every element of `dst` (`src` and `dst` have
            // the same length: chunks plus remainder cover both).
            unsafe { *d.assume_init_mut() *= inv };
        }
    }
}

/// `x` is `[rows, v]` contiguous → `x - logsumexp(x)` per row.
pub fn log_softmax<T: Float>(x: &[T], v: usize) -> Vec<T> {
    let mut out = vec![T::zero(); x.len()];
    if v == 0 {
        return out;
    }
    let parallel = x.len() >= PAR_MIN_ELEMS;
    if let (Some(x), Some(dst)) = (as_f32(x), as_f32_mut(&mut out)) {
        let row = |(src, dst): (&[f32], &mut [f32])| log_softmax_row_f32(src, dst);
        if parallel {
            x.par_chunks(v).zip(dst.par_chunks_mut(v)).for_each(row);
        } else {
            x.chunks(v).zip(dst.chunks_mut(v)).for_each(row);
        }
        return out;
    }
    let row = |(src, dst): (&[T], &mut [T])| {
        let max = src.iter().fold(T::neg_infinity(), |m, &v| m.max(v));
        let sum: T = src.iter().map(|&s| (s - max).exp()).sum();
        let lse = max + sum.ln();
        for (d, &s) in dst.iter_mut().zip(src) {
            *d = s - lse;
        }
    };
    if parallel {
        x.par_chunks(v).zip(out.par_chunks_mut(v)).for_each(row);
    } else {
        x.chunks(v).zip(out.chunks_mut(v)).for_each(row);
    }
    out
}

simd_kernel! {
    /// `dst = src - logsumexp(src)` for one row.
    pub(crate) fn log_softmax_row_f32(src: &[f32], dst: &mut [f32]) {
        let lse = logsumexp_f32::<FMA>(src);
        for (d, &s) in dst.iter_mut().zip(src) {
            *d = s - lse;
        }
    }
}

simd_kernel! {
    /// `logsumexp(row)` of one f32 row, vectorized: the per-row loss of cross-entropy and
    /// the log-normalizer of decoding's per-token log-probs.
    pub fn logsumexp_row_f32(row: &[f32]) -> f32 {
        logsumexp_f32::<FMA>(row)
    }
}

/// `max + ln Σ e^(x - max)` of one row (the shared core of log-softmax and
/// cross-entropy); inlined into the caller's SIMD instantiation.
#[inline(always)]
pub(crate) fn logsumexp_f32<const FMA: bool>(src: &[f32]) -> f32 {
    let max = max_f32(src);
    max + sum_map_f32(src, |s| exp_f32_with::<FMA>(s - max)).ln()
}
