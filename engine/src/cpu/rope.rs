//! Fused rotary position embedding, interleaved (Meta / llama2.c) layout.

use rayon::prelude::*;

use super::simd::{as_f32, as_f32_mut, simd_kernel};
use super::strided::PAR_MIN_ELEMS;
use crate::Float;

/// Positions per block of the cos/sin table: the first position of a block is computed
/// with `sin_cos`, the rest by rotating the previous one (one complex multiply instead of
/// a libm call per entry, which made the table cost as much as the rotation itself).
/// Blocks are short so the rounding of the recurrence stays near 1e-14.
const TABLE_BLOCK: usize = 32;

/// `x` is `[B, T, H, D]` contiguous. Pair `(x[2i], x[2i+1])` of the head vector at
/// position `p = pos_offset + row_offsets[b] + t` (no row term when `row_offsets` is
/// `None`) is rotated by `p · theta^(-2i/D)`; `inverse` rotates the other way (the
/// backward of the forward rotation). Row offsets may be negative (left padding puts the
/// pads before position 0); one table spans every row's positions, and row `b` reads it
/// from `row_offsets[b] − min(row_offsets)` on.
#[allow(clippy::too_many_arguments)]
pub fn rope<T: Float>(
    x: &[T],
    t_len: usize,
    h: usize,
    d: usize,
    pos_offset: usize,
    row_offsets: Option<&[i64]>,
    theta: f64,
    inverse: bool,
) -> Vec<T> {
    let mut out = vec![T::zero(); x.len()];
    let half = d / 2;
    if x.is_empty() || half == 0 {
        out.copy_from_slice(x);
        return out;
    }
    let min_offset = row_offsets.and_then(|o| o.iter().copied().min()).unwrap_or(0);
    // each row's first table entry
    let shifts: Vec<usize> = row_offsets.map_or(Vec::new(), |o| o.iter().map(|&r| (r - min_offset) as usize).collect());
    let span = t_len + shifts.iter().copied().max().unwrap_or(0);
    let (cos, sin) = table::<T>(span, half, d, pos_offset as i64 + min_offset, theta, inverse);
    // table row of the r-th (b, t) head group
    let at = |r: usize| r % t_len + shifts.get(r / t_len).copied().unwrap_or(0);
    let per_t = h * d;
    let parallel = x.len() >= PAR_MIN_ELEMS;
    if let (Some(x), Some(dst), Some(cos), Some(sin)) = (as_f32(x), as_f32_mut(&mut out), as_f32(&cos), as_f32(&sin)) {
        // one row = the H head vectors of one (b, t)
        let row = |(r, (src, dst)): (usize, (&[f32], &mut [f32]))| {
            let t = at(r);
            rope_row_f32(src, dst, d, &cos[t * half..(t + 1) * half], &sin[t * half..(t + 1) * half]);
        };
        if parallel {
            x.par_chunks(per_t).zip(dst.par_chunks_mut(per_t)).enumerate().for_each(row);
        } else {
            x.chunks(per_t).zip(dst.chunks_mut(per_t)).enumerate().for_each(row);
        }
        return out;
    }
    let row = |(r, (src, dst)): (usize, (&[T], &mut [T]))| {
        let t = at(r);
        rotate_pairs(src, dst, d, &cos[t * half..(t + 1) * half], &sin[t * half..(t + 1) * half]);
    };
    if parallel {
        x.par_chunks(per_t).zip(out.par_chunks_mut(per_t)).enumerate().for_each(row);
    } else {
        x.chunks(per_t).zip(out.chunks_mut(per_t)).enumerate().for_each(row);
    }
    out
}

/// cos and (signed) sin tables `[T, D/2]` for positions `start..start+T`, computed in f64
/// so f32 and f64 agree to rounding.
fn table<T: Float>(t_len: usize, half: usize, d: usize, start: i64, theta: f64, inverse: bool) -> (Vec<T>, Vec<T>) {
    let sign = if inverse { -1.0 } else { 1.0 };
    let inv_freq: Vec<f64> = (0..half).map(|i| theta.powf(-2.0 * i as f64 / d as f64)).collect();
    let step: Vec<(f64, f64)> = inv_freq.iter().map(|w| w.sin_cos()).collect();
    let mut cos = vec![T::zero(); t_len * half];
    let mut sin = vec![T::zero(); t_len * half];
    let block = TABLE_BLOCK * half;
    cos.par_chunks_mut(block).zip(sin.par_chunks_mut(block)).enumerate().for_each(|(b, (cos, sin))| {
        let p0 = (start + (b * TABLE_BLOCK) as i64) as f64;
        let mut rot: Vec<(f64, f64)> = inv_freq.iter().map(|w| (p0 * w).sin_cos()).collect();
        for (cos, sin) in cos.chunks_mut(half).zip(sin.chunks_mut(half)) {
            for (((c, s), r), &(ws, wc)) in cos.iter_mut().zip(sin.iter_mut()).zip(rot.iter_mut()).zip(&step) {
                *c = T::from_f64_lossy(r.1);
                *s = T::from_f64_lossy(sign * r.0);
                // angle + w: (sin, cos) of a sum
                *r = (r.0 * wc + r.1 * ws, r.1 * wc - r.0 * ws);
            }
        }
    });
    (cos, sin)
}

/// Rotates each consecutive pair of every D-long head vector in `src` by its (cos, sin).
#[inline(always)]
fn rotate_pairs<T: Float>(src: &[T], dst: &mut [T], d: usize, cos: &[T], sin: &[T]) {
    for (s, o) in src.chunks_exact(d).zip(dst.chunks_exact_mut(d)) {
        for (((s, o), &c), &sn) in s.chunks_exact(2).zip(o.chunks_exact_mut(2)).zip(cos).zip(sin) {
            let (a, b) = (s[0], s[1]);
            o[0] = a * c - b * sn;
            o[1] = a * sn + b * c;
        }
        if d % 2 == 1 {
            o[d - 1] = s[d - 1];
        }
    }
}

simd_kernel! {
    /// [`rotate_pairs`] for f32, vectorized.
    fn rope_row_f32(src: &[f32], dst: &mut [f32], d: usize, cos: &[f32], sin: &[f32]) {
        rotate_pairs(src, dst, d, cos, sin)
    }
}
