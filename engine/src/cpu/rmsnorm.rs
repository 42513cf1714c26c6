//! Fused RMSNorm, `y = x / sqrt(mean(x²) + eps) * w` over the last dim, and its backward.

use rayon::prelude::*;

use super::simd::{as_f32, as_f32_mut, simd_kernel, sum_map_f32, LANES};
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

/// Elements per task of the backward. Fixed — not derived from the thread count — so the
/// per-task partial sums of `dw`, and so `dw` itself, are the same bits on every run and
/// every machine (resumed training must reproduce the uninterrupted run).
const BACKWARD_TASK_ELEMS: usize = 1 << 14;

/// The gradients of [`rms_norm`]: `x` and the output gradient `g` are `[rows, C]`
/// contiguous, `w` is `[C]` → `(dx [rows, C], dw [C])`. With `r = 1/sqrt(mean(x²) + eps)`
/// per row and `x̂ = x·r`:
///
/// `dx = r·(g·w − x̂·mean(g·w·x̂)) = r·g·w − x·r³·Σ(g·w·x)/C`, `dw = Σ_rows g·x̂`.
///
/// One read of each row for its two sums, one pass that writes `dx` and accumulates the
/// task's partial `dw`; the partials are added in task order (the composite takes about
/// ten passes and as many `[rows, C]` temporaries).
pub fn rms_norm_backward<T: Float>(x: &[T], w: &[T], g: &[T], eps: f64) -> (Vec<T>, Vec<T>) {
    let c = w.len();
    let mut dx = vec![T::zero(); x.len()];
    if c == 0 || x.is_empty() {
        return (dx, vec![T::zero(); c]);
    }
    let task_rows = (BACKWARD_TASK_ELEMS / c).max(1);
    let tasks = (x.len() / c).div_ceil(task_rows);
    let mut partials = vec![T::zero(); tasks * c];
    if let (Some(xf), Some(wf), Some(gf), Some(dxf), Some(pf)) =
        (as_f32(x), as_f32(w), as_f32(g), as_f32_mut(&mut dx), as_f32_mut(&mut partials))
    {
        let eps = eps as f32;
        for_each_task(task_rows * c, c, xf, gf, dxf, pf, |x, g, dx, dw| {
            rms_norm_backward_rows_f32(x, wf, g, eps, dx, dw)
        });
    } else {
        let eps = T::from_f64_lossy(eps);
        let inv_c = T::one() / T::from_usize(c).unwrap();
        for_each_task(task_rows * c, c, x, g, &mut dx, &mut partials, |x, g, dx, dw| {
            for ((x, g), dx) in x.chunks_exact(c).zip(g.chunks_exact(c)).zip(dx.chunks_exact_mut(c)) {
                let (mut sum_sq, mut dot) = (T::zero(), T::zero());
                for ((&xv, &gv), &wv) in x.iter().zip(g).zip(w) {
                    sum_sq += xv * xv;
                    dot += gv * wv * xv;
                }
                let r = T::one() / (sum_sq * inv_c + eps).sqrt();
                let k = r * r * r * dot * inv_c;
                for ((((d, dwv), &xv), &gv), &wv) in dx.iter_mut().zip(dw.iter_mut()).zip(x).zip(g).zip(w) {
                    *d = r * gv * wv - k * xv;
                    *dwv += gv * xv * r;
                }
            }
        });
    }
    let (first, rest) = partials.split_at_mut(c);
    for partial in rest.chunks_exact(c) {
        first.iter_mut().zip(partial).for_each(|(acc, &p)| *acc += p);
    }
    partials.truncate(c);
    (dx, partials)
}

/// Runs `f(x, g, dx, dw)` on consecutive blocks of `block` elements of `x`, `g` and `dx`,
/// block `i` getting row `i` of `partials` (`[tasks, C]`) as its `dw`; in parallel or not,
/// the blocks and so the results are the same.
fn for_each_task<T: Send + Sync>(
    block: usize,
    c: usize,
    x: &[T],
    g: &[T],
    dx: &mut [T],
    partials: &mut [T],
    f: impl Fn(&[T], &[T], &mut [T], &mut [T]) + Sync,
) {
    if x.len() >= PAR_MIN_ELEMS {
        x.par_chunks(block)
            .zip(g.par_chunks(block))
            .zip(dx.par_chunks_mut(block))
            .zip(partials.par_chunks_mut(c))
            .for_each(|(((x, g), dx), dw)| f(x, g, dx, dw));
    } else {
        x.chunks(block)
            .zip(g.chunks(block))
            .zip(dx.chunks_mut(block))
            .zip(partials.chunks_mut(c))
            .for_each(|(((x, g), dx), dw)| f(x, g, dx, dw));
    }
}

simd_kernel! {
    /// Rows `x`, `g`, `dx` (each a whole number of rows of length C): writes `dx` and adds
    /// this block's `Σ g·x̂` into `dw` `[C]`.
    fn rms_norm_backward_rows_f32(x: &[f32], w: &[f32], g: &[f32], eps: f32, dx: &mut [f32], dw: &mut [f32]) {
        let c = w.len();
        let inv_c = 1.0 / c as f32;
        for ((x, g), dx) in x.chunks_exact(c).zip(g.chunks_exact(c)).zip(dx.chunks_exact_mut(c)) {
            // equal lengths made visible to the compiler, so the loop has no bounds checks
            let (x, g, dx, dw) = (&x[..c], &g[..c], &mut dx[..c], &mut dw[..c]);
            let (sum_sq, dot) = sum_sq_and_dot_f32(x, w, g);
            let r = 1.0 / (sum_sq * inv_c + eps).sqrt();
            let k = r * r * r * dot * inv_c;
            for ((((d, dwv), &xv), &gv), &wv) in dx.iter_mut().zip(dw.iter_mut()).zip(x).zip(g).zip(w) {
                *d = r * gv * wv - k * xv;
                *dwv += gv * xv * r;
            }
        }
    }
}

/// `(Σ x², Σ g·w·x)` over equal-length slices, with `LANES` partial sums each.
#[inline(always)]
fn sum_sq_and_dot_f32(x: &[f32], w: &[f32], g: &[f32]) -> (f32, f32) {
    let (mut sq, mut dot) = ([0.0f32; LANES], [0.0f32; LANES]);
    let (xc, wc, gc) = (x.chunks_exact(LANES), w.chunks_exact(LANES), g.chunks_exact(LANES));
    let (xt, wt, gt) = (xc.remainder(), wc.remainder(), gc.remainder());
    for ((x, w), g) in xc.zip(wc).zip(gc) {
        for ((((s, d), &x), &w), &g) in sq.iter_mut().zip(dot.iter_mut()).zip(x).zip(w).zip(g) {
            *s += x * x;
            *d += g * w * x;
        }
    }
    let (mut sq_tail, mut dot_tail) = (0.0, 0.0);
    for ((&x, &w), &g) in xt.iter().zip(wt).zip(gt) {
        sq_tail += x * x;
        dot_tail += g * w * x;
    }
    (sq.iter().sum::<f32>() + sq_tail, dot.iter().sum::<f32>() + dot_tail)
}
