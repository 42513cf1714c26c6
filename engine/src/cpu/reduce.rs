//! Reductions over one axis.

use rayon::prelude::*;

use super::strided::PAR_MIN_ELEMS;
use crate::{Float, ReduceOp};

/// Reduces axis 1 of a contiguous `[outer, n, inner]` array → `[outer, inner]`.
pub fn reduce<T: Float>(op: ReduceOp, x: &[T], outer: usize, n: usize, inner: usize) -> Vec<T> {
    let init = match op {
        ReduceOp::Sum => T::zero(),
        ReduceOp::Max => T::neg_infinity(),
    };
    let mut out = vec![init; outer * inner];
    if inner == 0 || outer == 0 {
        return out;
    }
    let combine = move |acc: T, v: T| match op {
        ReduceOp::Sum => acc + v,
        ReduceOp::Max => acc.max(v),
    };
    let block = |(o, dst): (usize, &mut [T])| {
        let src = &x[o * n * inner..(o + 1) * n * inner];
        if inner == 1 {
            dst[0] = src.iter().fold(init, |acc, &v| combine(acc, v));
        } else {
            // walk the reduced axis in the outer loop so the inner loop is unit-stride
            for k in 0..n {
                for (d, &v) in dst.iter_mut().zip(&src[k * inner..(k + 1) * inner]) {
                    *d = combine(*d, v);
                }
            }
        }
    };
    if outer * n * inner >= PAR_MIN_ELEMS && outer > 1 {
        out.par_chunks_mut(inner).enumerate().for_each(block);
    } else if outer * n * inner >= PAR_MIN_ELEMS && inner >= 64 {
        // one big outer block: split the inner range across threads instead
        let chunk = inner.div_ceil(rayon::current_num_threads() * 4).max(16);
        out.par_chunks_mut(chunk).enumerate().for_each(|(c, dst)| {
            let start = c * chunk;
            for k in 0..n {
                let src = &x[k * inner + start..k * inner + start + dst.len()];
                for (d, &v) in dst.iter_mut().zip(src) {
                    *d = combine(*d, v);
                }
            }
        });
    } else {
        out.chunks_mut(inner).enumerate().for_each(block);
    }
    out
}
