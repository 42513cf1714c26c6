//! Fused RMSNorm: `y = x / sqrt(mean(x²) + eps) * w` over the last dim.

use rayon::prelude::*;

use super::strided::PAR_MIN_ELEMS;
use crate::Float;

/// `x` is `[rows, C]` contiguous, `w` is `[C]` → `[rows, C]`.
pub fn rms_norm<T: Float>(x: &[T], w: &[T], eps: f64) -> Vec<T> {
    let c = w.len();
    let mut out = vec![T::zero(); x.len()];
    if c == 0 {
        return out;
    }
    let eps = T::from_f64_lossy(eps);
    let row = |(src, dst): (&[T], &mut [T])| {
        let ms = src.iter().map(|&v| v * v).sum::<T>() / T::from_usize(c).unwrap();
        let rstd = T::one() / (ms + eps).sqrt();
        for ((d, &s), &g) in dst.iter_mut().zip(src).zip(w) {
            *d = s * rstd * g;
        }
    };
    if x.len() >= PAR_MIN_ELEMS {
        x.par_chunks(c).zip(out.par_chunks_mut(c)).for_each(row);
    } else {
        x.chunks(c).zip(out.chunks_mut(c)).for_each(row);
    }
    out
}
