//! The small hot loops of single-token inference on plain f32 slices: RMSNorm, softmax,
//! SwiGLU, dot product. Matrix·vector, the big one, lives in `matvec.rs`.

use super::matvec::{matvec_serial, Residency};

/// `x · rsqrt(mean(x²) + eps) · weight` into `out` (all `[C]`).
pub fn rms_norm(x: &[f32], weight: &[f32], eps: f32, out: &mut [f32]) {
    let mean_square = x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32;
    let scale = 1.0 / (mean_square + eps).sqrt();
    for ((o, &v), &g) in out.iter_mut().zip(x).zip(weight) {
        *o = g * (scale * v);
    }
}

/// In-place softmax over `x`.
pub fn softmax(x: &mut [f32]) {
    let max = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for v in x.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    let inv = 1.0 / sum;
    x.iter_mut().for_each(|v| *v *= inv);
}

/// `gate ← silu(gate) · up` (SwiGLU), in place.
pub fn swiglu(gate: &mut [f32], up: &[f32]) {
    for (g, &u) in gate.iter_mut().zip(up) {
        *g = *g / (1.0 + (-*g).exp()) * u;
    }
}

/// Dot product on the widest vector unit (attention scores over the cache).
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut out = [0.0f32];
    matvec_serial(a, b, &mut out, Residency::Keep);
    out[0]
}
