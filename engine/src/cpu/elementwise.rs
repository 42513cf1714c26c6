//! Elementwise unary and broadcasting binary kernels.

use rayon::prelude::*;

use super::exp::{exp_f32_with, sigmoid_f32, silu_f32};
use super::simd::{as_f32, as_f32_mut, simd_kernel};
use super::strided::{RowIndexer, PAR_MIN_ELEMS};
use crate::{BinaryOp, Float, Layout, UnaryOp};

/// Elements per parallel task of the contiguous paths.
const CHUNK: usize = 4096;

/// Applies one unary op to a value (the scalar definition every backend matches).
#[inline(always)]
pub fn unary_scalar<T: Float>(op: UnaryOp, x: T) -> T {
    let one = T::one();
    match op {
        UnaryOp::Neg => -x,
        UnaryOp::Exp => x.exp(),
        UnaryOp::Log => x.ln(),
        UnaryOp::Sqrt => x.sqrt(),
        UnaryOp::Recip => one / x,
        UnaryOp::Square => x * x,
        UnaryOp::Sigmoid => one / (one + (-x).exp()),
        UnaryOp::Silu => x / (one + (-x).exp()),
        UnaryOp::Tanh => x.tanh(),
        UnaryOp::Relu => x.max(T::zero()),
        // log σ(x) = -softplus(-x), written to stay finite for large |x|
        UnaryOp::LogSigmoid => x.min(T::zero()) - (-x.abs()).exp().ln_1p(),
        UnaryOp::Affine { mul, add } => x * T::from_f64_lossy(mul) + T::from_f64_lossy(add),
        UnaryOp::Clamp { lo, hi } => x.max(T::from_f64_lossy(lo)).min(T::from_f64_lossy(hi)),
        UnaryOp::Powf(p) => x.powf(T::from_f64_lossy(p)),
    }
}

#[inline(always)]
pub fn binary_scalar<T: Float>(op: BinaryOp, a: T, b: T) -> T {
    match op {
        BinaryOp::Add => a + b,
        BinaryOp::Sub => a - b,
        BinaryOp::Mul => a * b,
        BinaryOp::Div => a / b,
        BinaryOp::Maximum => a.max(b),
        BinaryOp::Minimum => a.min(b),
    }
}

/// `op(x)` for every element of `x` (any layout) → contiguous output of the same shape.
pub fn unary<T: Float>(op: UnaryOp, src: &[T], layout: &Layout) -> Vec<T> {
    let n = layout.numel();
    let mut out = vec![T::zero(); n];
    if let Some(range) = layout.contiguous_range() {
        let src = &src[range];
        if let (Some(kernel), Some(src), Some(dst)) = (fast_unary_f32(op), as_f32(src), as_f32_mut(&mut out)) {
            if n >= PAR_MIN_ELEMS {
                dst.par_chunks_mut(CHUNK).zip(src.par_chunks(CHUNK)).for_each(|(o, s)| kernel(s, o));
            } else {
                kernel(src, dst);
            }
            return out;
        }
        let f = |(o, s): (&mut [T], &[T])| {
            for (o, &s) in o.iter_mut().zip(s) {
                *o = unary_scalar(op, s);
            }
        };
        if n >= PAR_MIN_ELEMS {
            out.par_chunks_mut(CHUNK).zip(src.par_chunks(CHUNK)).for_each(f);
        } else {
            f((&mut out, src));
        }
        return out;
    }
    let ix = RowIndexer::new(layout);
    if ix.len == 0 {
        return out;
    }
    let f = |(r, row): (usize, &mut [T])| {
        let base = ix.base(r);
        for (i, o) in row.iter_mut().enumerate() {
            *o = unary_scalar(op, src[base + i * ix.inner_stride]);
        }
    };
    if n >= PAR_MIN_ELEMS {
        out.par_chunks_mut(ix.len).enumerate().for_each(f);
    } else {
        out.chunks_mut(ix.len).enumerate().for_each(f);
    }
    out
}

/// `op(a, b)` where both layouts are already broadcast to the same output shape.
pub fn binary<T: Float>(op: BinaryOp, a: &[T], la: &Layout, b: &[T], lb: &Layout) -> Vec<T> {
    debug_assert_eq!(la.shape(), lb.shape());
    let n = la.numel();
    let mut out = vec![T::zero(); n];
    if let (Some(ra), Some(rb)) = (la.contiguous_range(), lb.contiguous_range()) {
        let (a, b) = (&a[ra], &b[rb]);
        let f = |((o, a), b): ((&mut [T], &[T]), &[T])| {
            for ((o, &a), &b) in o.iter_mut().zip(a).zip(b) {
                *o = binary_scalar(op, a, b);
            }
        };
        if n >= PAR_MIN_ELEMS {
            out.par_chunks_mut(CHUNK).zip(a.par_chunks(CHUNK)).zip(b.par_chunks(CHUNK)).for_each(f);
        } else {
            f(((&mut out, a), b));
        }
        return out;
    }
    let (ia, ib) = (RowIndexer::new(la), RowIndexer::new(lb));
    if ia.len == 0 {
        return out;
    }
    let f = |(r, row): (usize, &mut [T])| {
        let (ba, bb) = (ia.base(r), ib.base(r));
        let (sa, sb) = (ia.inner_stride, ib.inner_stride);
        match (sa, sb) {
            // the common broadcast shapes get loops the compiler can vectorize
            (1, 1) => {
                for ((o, &x), &y) in row.iter_mut().zip(&a[ba..ba + ia.len]).zip(&b[bb..bb + ib.len]) {
                    *o = binary_scalar(op, x, y);
                }
            }
            (1, 0) => {
                let y = b[bb];
                for (o, &x) in row.iter_mut().zip(&a[ba..ba + ia.len]) {
                    *o = binary_scalar(op, x, y);
                }
            }
            (0, 1) => {
                let x = a[ba];
                for (o, &y) in row.iter_mut().zip(&b[bb..bb + ib.len]) {
                    *o = binary_scalar(op, x, y);
                }
            }
            _ => {
                for (i, o) in row.iter_mut().enumerate() {
                    *o = binary_scalar(op, a[ba + i * sa], b[bb + i * sb]);
                }
            }
        }
    };
    if n >= PAR_MIN_ELEMS {
        out.par_chunks_mut(ia.len).enumerate().for_each(f);
    } else {
        out.chunks_mut(ia.len).enumerate().for_each(f);
    }
    out
}

/// A kernel writing `dst[i] = f(src[i])`.
type SliceKernelF32 = fn(&[f32], &mut [f32]);

/// The vectorized f32 kernel of the exp-based unary ops (libm's exp would keep them scalar).
fn fast_unary_f32(op: UnaryOp) -> Option<SliceKernelF32> {
    match op {
        UnaryOp::Exp => Some(exp_slice_f32),
        UnaryOp::Sigmoid => Some(sigmoid_slice_f32),
        UnaryOp::Silu => Some(silu_slice_f32),
        _ => None,
    }
}

simd_kernel! {
    fn exp_slice_f32(src: &[f32], dst: &mut [f32]) {
        for (o, &s) in dst.iter_mut().zip(src) {
            *o = exp_f32_with::<FMA>(s);
        }
    }
}

simd_kernel! {
    fn sigmoid_slice_f32(src: &[f32], dst: &mut [f32]) {
        for (o, &s) in dst.iter_mut().zip(src) {
            *o = sigmoid_f32::<FMA>(s);
        }
    }
}

simd_kernel! {
    fn silu_slice_f32(src: &[f32], dst: &mut [f32]) {
        for (o, &s) in dst.iter_mut().zip(src) {
            *o = silu_f32::<FMA>(s);
        }
    }
}
