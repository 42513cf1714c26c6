//! Fused rotary position embedding, interleaved (Meta / llama2.c) layout.

use rayon::prelude::*;

use super::strided::PAR_MIN_ELEMS;
use crate::Float;

/// `x` is `[B, T, H, D]` contiguous. Pair `(x[2i], x[2i+1])` of the head vector at
/// position `p = pos_offset + t` is rotated by `p · theta^(-2i/D)`; `inverse` rotates the
/// other way (the backward of the forward rotation).
pub fn rope<T: Float>(
    x: &[T],
    t_len: usize,
    h: usize,
    d: usize,
    pos_offset: usize,
    theta: f64,
    inverse: bool,
) -> Vec<T> {
    let mut out = vec![T::zero(); x.len()];
    let half = d / 2;
    if x.is_empty() || half == 0 {
        out.copy_from_slice(x);
        return out;
    }
    // cos/sin table [T, D/2], computed in f64 so f32 and f64 agree to rounding
    let sign = if inverse { -1.0 } else { 1.0 };
    let mut table = Vec::with_capacity(t_len * half);
    for t in 0..t_len {
        let p = (pos_offset + t) as f64;
        for i in 0..half {
            let angle = p * theta.powf(-2.0 * i as f64 / d as f64);
            table.push((T::from_f64_lossy(angle.cos()), T::from_f64_lossy(sign * angle.sin())));
        }
    }
    let per_t = h * d;
    let row = |(r, (src, dst)): (usize, (&[T], &mut [T]))| {
        let t = r % t_len;
        let cs = &table[t * half..(t + 1) * half];
        for (s, o) in src.chunks(d).zip(dst.chunks_mut(d)) {
            for (i, &(c, sn)) in cs.iter().enumerate() {
                let (a, b) = (s[2 * i], s[2 * i + 1]);
                o[2 * i] = a * c - b * sn;
                o[2 * i + 1] = a * sn + b * c;
            }
            if d % 2 == 1 {
                o[d - 1] = s[d - 1];
            }
        }
    };
    if x.len() >= PAR_MIN_ELEMS {
        x.par_chunks(per_t).zip(out.par_chunks_mut(per_t)).enumerate().for_each(row);
    } else {
        x.chunks(per_t).zip(out.chunks_mut(per_t)).enumerate().for_each(row);
    }
    out
}
