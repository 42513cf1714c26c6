//! Fused SwiGLU gate: `silu(a) * b`.

use rayon::prelude::*;

use super::strided::PAR_MIN_ELEMS;
use crate::Float;

/// `a`, `b` are equal-length contiguous buffers (`[.., F]`) → `silu(a) · b`.
pub fn swiglu<T: Float>(a: &[T], b: &[T]) -> Vec<T> {
    let mut out = vec![T::zero(); a.len()];
    let f = |((o, a), b): ((&mut [T], &[T]), &[T])| {
        for ((o, &x), &y) in o.iter_mut().zip(a).zip(b) {
            *o = x / (T::one() + (-x).exp()) * y;
        }
    };
    if a.len() >= PAR_MIN_ELEMS {
        out.par_chunks_mut(4096).zip(a.par_chunks(4096)).zip(b.par_chunks(4096)).for_each(f);
    } else {
        f(((&mut out, a), b));
    }
    out
}
