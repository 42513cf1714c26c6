//! Hot loops of single-token inference on plain f32 slices: matrix·vector (the cost of
//! decoding), RMSNorm, softmax, SwiGLU. `matvec` picks AVX-512 or AVX2+FMA at run time;
//! a default `cargo build` targets baseline x86-64, so without the dispatch the weights
//! would stream through 128-bit SSE.

use rayon::prelude::*;

/// Rows per rayon task; below this many weights in total a matvec runs on one thread
/// (the fork/join costs more than it saves for the 260K model's 64×64 matrices).
const PAR_MIN_WEIGHTS: usize = 1 << 15;

/// Dot product body, inlined into each `#[target_feature]` wrapper so the compiler
/// vectorizes it for that instruction set. `LANES` independent accumulators hide the FMA
/// latency.
#[inline(always)]
fn dot_body<const LANES: usize>(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; LANES];
    let split = a.len() - a.len() % LANES;
    for (ca, cb) in a[..split].chunks_exact(LANES).zip(b[..split].chunks_exact(LANES)) {
        for j in 0..LANES {
            acc[j] = ca[j].mul_add(cb[j], acc[j]);
        }
    }
    let mut sum: f32 = acc.iter().sum();
    for (x, y) in a[split..].iter().zip(&b[split..]) {
        sum = x.mul_add(*y, sum);
    }
    sum
}

#[inline(always)]
fn matvec_body<const LANES: usize>(w: &[f32], x: &[f32], out: &mut [f32]) {
    let n = x.len();
    for (o, row) in out.iter_mut().zip(w.chunks_exact(n)) {
        *o = dot_body::<LANES>(row, x);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,fma")]
unsafe fn matvec_avx512(w: &[f32], x: &[f32], out: &mut [f32]) {
    matvec_body::<32>(w, x, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn matvec_avx2(w: &[f32], x: &[f32], out: &mut [f32]) {
    matvec_body::<16>(w, x, out)
}

/// `out[r] = Σ_j w[r, j] · x[j]` for one thread's rows, on the widest vector unit present.
fn matvec_serial(w: &[f32], x: &[f32], out: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        if is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("fma") {
            // SAFETY: the CPU supports avx512f and fma (checked just above).
            return unsafe { matvec_avx512(w, x, out) };
        }
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            // SAFETY: the CPU supports avx2 and fma (checked just above).
            return unsafe { matvec_avx2(w, x, out) };
        }
    }
    // portable path: plain mul + add (mul_add without hardware FMA is a slow libm call)
    let n = x.len();
    for (o, row) in out.iter_mut().zip(w.chunks_exact(n)) {
        *o = row.iter().zip(x).map(|(a, b)| a * b).sum();
    }
}

/// `w` `[R, N]` row-major, `x` `[N]` → `out` `[R]`; rows are split across threads when
/// the matrix is large enough to pay for it.
pub fn matvec(w: &[f32], x: &[f32], out: &mut [f32]) {
    let n = x.len();
    debug_assert_eq!(w.len(), out.len() * n, "matvec: [{}] weights for {} rows of {n}", w.len(), out.len());
    if w.len() < PAR_MIN_WEIGHTS || rayon::current_num_threads() == 1 {
        return matvec_serial(w, x, out);
    }
    // a few tasks per thread so a descheduled core does not stall the whole token
    let rows_per_task = out.len().div_ceil(rayon::current_num_threads() * 4).max(1);
    out.par_chunks_mut(rows_per_task)
        .zip(w.par_chunks(rows_per_task * n))
        .for_each(|(o, rows)| matvec_serial(rows, x, o));
}

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
    matvec_serial(a, b, &mut out);
    out[0]
}
