//! Fused SwiGLU gate, `silu(a) * b`, and its backward.

use rayon::prelude::*;

use super::exp::{sigmoid_f32, silu_f32};
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

/// The gradients of [`swiglu`] given the output gradient `g` (all equal-length contiguous
/// buffers, `[.., F]`): with `s = σ(a)`, `da = g·b·s·(1 + a·(1 − s))` and `db = g·a·s`.
/// One pass over the elements writing both outputs (the composite takes eight passes).
pub fn swiglu_backward<T: Float>(a: &[T], b: &[T], g: &[T]) -> (Vec<T>, Vec<T>) {
    let mut da = vec![T::zero(); a.len()];
    let mut db = vec![T::zero(); a.len()];
    if let (Some(a), Some(b), Some(g), Some(da), Some(db)) =
        (as_f32(a), as_f32(b), as_f32(g), as_f32_mut(&mut da), as_f32_mut(&mut db))
    {
        for_each_chunk(a, b, g, da, db, swiglu_backward_f32);
    } else {
        for_each_chunk(a, b, g, &mut da, &mut db, |a, b, g, da, db| {
            for ((((da, db), &x), &y), &g) in da.iter_mut().zip(db.iter_mut()).zip(a).zip(b).zip(g) {
                let s = T::one() / (T::one() + (-x).exp());
                let gs = g * s;
                *db = gs * x;
                *da = gs * y * (T::one() + x * (T::one() - s));
            }
        });
    }
    (da, db)
}

/// Runs `f(a, b, g, da, db)` on matching `CHUNK`-element pieces, in parallel when large.
fn for_each_chunk<T: Send + Sync>(
    a: &[T],
    b: &[T],
    g: &[T],
    da: &mut [T],
    db: &mut [T],
    f: impl Fn(&[T], &[T], &[T], &mut [T], &mut [T]) + Sync,
) {
    if a.len() < PAR_MIN_ELEMS {
        return f(a, b, g, da, db);
    }
    a.par_chunks(CHUNK)
        .zip(b.par_chunks(CHUNK))
        .zip(g.par_chunks(CHUNK))
        .zip(da.par_chunks_mut(CHUNK))
        .zip(db.par_chunks_mut(CHUNK))
        .for_each(|((((a, b), g), da), db)| f(a, b, g, da, db));
}

simd_kernel! {
    /// `da`, `db` of `silu(a) · b` for the output gradient `g`, over equal-length slices.
    fn swiglu_backward_f32(a: &[f32], b: &[f32], g: &[f32], da: &mut [f32], db: &mut [f32]) {
        let n = a.len();
        // equal lengths made visible to the compiler, so the loop has no bounds checks
        let (b, g, da, db) = (&b[..n], &g[..n], &mut da[..n], &mut db[..n]);
        for ((((da, db), &x), &y), &g) in da.iter_mut().zip(db.iter_mut()).zip(a).zip(b).zip(g) {
            let s = sigmoid_f32::<FMA>(x);
            let gs = g * s;
            *db = gs * x;
            *da = gs * y * (1.0 + x * (1.0 - s));
        }
    }
}
