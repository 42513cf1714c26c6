//! Fused RMSNorm: `y = x / sqrt(mean(x²) + eps) * w` over the last dim.

use rayon::prelude::*;

use super::simd::{as_f32, as_f32_mut, simd_kernel, sum_map_f32};
use super::strided::PAR_MIN_ELEMS;
use crate::Float;

/// `x` is `[rows, C]` contiguous, `w` is `[C]` → `[rows, C]`.
pub fn rms_norm<T: Float>(x: &[T], w: &[T], eps: f64) -> Vec<T> {
    let c = w.len();
    let mut out = vec![T::zero(); x.len()];
    if c == 0 {
        return out;
    }
    let parallel = x.len() >= PAR_MIN_ELEMS;
    if let (Some(x), Some(w), Some(dst)) = (as_f32(x), as_f32(w), as_f32_mut(&mut out)) {
        let eps = eps as f32;
        let row = |(src, dst): (&[f32], &mut [f32])| rms_norm_row_f32(src, w, eps, dst);
        if parallel {
            x.par_chunks(c).zip(dst.par_chunks_mut(c)).for_each(row);
        } else {
            x.chunks(c).zip(dst.chunks_mut(c)).for_each(row);
        }
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
    if parallel {
        x.par_chunks(c).zip(out.par_chunks_mut(c)).for_each(row);
    } else {
        x.chunks(c).zip(out.chunks_mut(c)).for_each(row);
    }
    out
}

simd_kernel! {
    /// One row: `dst = src / sqrt(mean(src²) + eps) * w`, all of length C.
    fn rms_norm_row_f32(src: &[f32], w: &[f32], eps: f32, dst: &mut [f32]) {
        let ms = sum_map_f32(src, |v| v * v) / src.len() as f32;
        let rstd = 1.0 / (ms + eps).sqrt();
        for ((d, &s), &g) in dst.iter_mut().zip(src).zip(w) {
            *d = s * rstd * g;
        }
    }
}
