//! Fused softmax (optionally causal) and log-softmax over the last dim.

use rayon::prelude::*;

use super::strided::PAR_MIN_ELEMS;
use crate::Float;

/// `x` is `[rows, tk]` contiguous, rows = outer·tq. With `causal = Some(tq)`, row `r` is
/// query `i = r % tq` and keys `j > i + (tk - tq)` get probability 0 (the mask that also
/// fits a KV cache holding `tk - tq` earlier positions).
pub fn softmax<T: Float>(x: &[T], tk: usize, causal: Option<usize>) -> Vec<T> {
    let mut out = vec![T::zero(); x.len()];
    if tk == 0 {
        return out;
    }
    let row = |(r, dst): (usize, &mut [T])| {
        let src = &x[r * tk..(r + 1) * tk];
        let visible = match causal {
            Some(tq) => (r % tq + 1 + tk - tq).min(tk),
            None => tk,
        };
        let (src, dst) = (&src[..visible], &mut dst[..visible]);
        let max = src.iter().fold(T::neg_infinity(), |m, &v| m.max(v));
        let mut sum = T::zero();
        for (d, &s) in dst.iter_mut().zip(src) {
            *d = (s - max).exp();
            sum += *d;
        }
        let inv = T::one() / sum;
        for d in dst.iter_mut() {
            *d *= inv;
        }
    };
    if x.len() >= PAR_MIN_ELEMS {
        out.par_chunks_mut(tk).enumerate().for_each(row);
    } else {
        out.chunks_mut(tk).enumerate().for_each(row);
    }
    out
}

/// `x` is `[rows, v]` contiguous → `x - logsumexp(x)` per row.
pub fn log_softmax<T: Float>(x: &[T], v: usize) -> Vec<T> {
    let mut out = vec![T::zero(); x.len()];
    if v == 0 {
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
    if x.len() >= PAR_MIN_ELEMS {
        x.par_chunks(v).zip(out.par_chunks_mut(v)).for_each(row);
    } else {
        x.chunks(v).zip(out.chunks_mut(v)).for_each(row);
    }
    out
}
