//! Fused SwiGLU gate: `silu(a) * b`.

use rayon::prelude::*;

use super::exp::silu_f32;
use super::simd::{as_f32, as_f32_mut, simd_kernel};
use super::strided::PAR_MIN_ELEMS;
use crate::Float;

/// Elements per parallel task: large enough to amortize rayon, small enough to balance.
const CHUNK: usize = 4096;

/// `a`, `b` are equal-length contiguous buffers (`[.., F]`) → `silu(a) · b`.
pub fn swiglu<T: Float>(a: &[T], b: &[T]) -> Vec<T> {
    let mut out = vec![T::zero(); a.len()];
    let parallel = a.len() >= PAR_MIN_ELEMS;
    if let (Some(a), Some(b), Some(dst)) = (as_f32(a), as_f32(b), as_f32_mut(&mut out)) {
        let f = |((o, a), b): ((&mut [f32], &[f32]), &[f32])| swiglu_f32(a, b, o);
        if parallel {
            dst.par_chunks_mut(CHUNK).zip(a.par_chunks(CHUNK)).zip(b.par_chunks(CHUNK)).for_each(f);
        } else {
            f(((dst, a), b));
        }
        return out;
    }
    let f = |((o, a), b): ((&mut [T], &[T]), &[T])| {
        for ((o, &x), &y) in o.iter_mut().zip(a).zip(b) {
            *o = x / (T::one() + (-x).exp()) * y;
        }
    };
    if parallel {
        out.par_chunks_mut(CHUNK).zip(a.par_chunks(CHUNK)).zip(b.par_chunks(CHUNK)).for_each(f);
    } else {
        f(((&mut out, a), b));
    }
    out
}

simd_kernel! {
    /// `out = silu(a) · b` over equal-length slices.
    fn swiglu_f32(a: &[f32], b: &[f32], out: &mut [f32]) {
        for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
            *o = silu_f32::<FMA>(x) * y;
        }
    }
}
