//! Hot loops of single-token inference on plain f32 slices: matrix·vector (the cost of
//! decoding), RMSNorm, attention over the cache, SwiGLU. `matvec` and `attend_head` pick
//! AVX-512 or AVX2+FMA at run time like the engine's kernels (`simd_kernel!`); a default
//! `cargo build` targets baseline x86-64, so without the dispatch the weights would stream
//! through 128-bit SSE.

use llamaforge_engine::cpu::exp::exp_f32_with;
#[cfg(target_arch = "x86_64")]
use llamaforge_engine::cpu::simd::{level, SimdLevel};

use super::team::{Disjoint, Team};

/// Below this many weights a matvec runs on one thread (the hand-over costs more than it
/// saves for the 260K model's 64×64 matrices).
const PAR_MIN_WEIGHTS: usize = 1 << 14;
/// Fewest weights in one chunk of a split matvec.
const CHUNK_MIN_WEIGHTS: usize = 1 << 14;

llamaforge_engine::simd_kernel! {
    /// The matvec where AVX-512 is not in use (AVX2+FMA, or the baseline target): 16
    /// independent partial sums per row hide the add/FMA latency and let LLVM vectorize.
    fn matvec_lanes(w: &[f32], x: &[f32], out: &mut [f32]) {
        const LANES: usize = 16;
        let n = x.len();
        let split = n - n % LANES;
        // `mul_add` is one instruction with FMA but a libm call without it
        let fma = |a: f32, b: f32, c: f32| if FMA { a.mul_add(b, c) } else { a * b + c };
        for (o, row) in out.iter_mut().zip(w.chunks_exact(n)) {
            let mut acc = [0.0f32; LANES];
            for (cw, cx) in row[..split].chunks_exact(LANES).zip(x[..split].chunks_exact(LANES)) {
                for j in 0..LANES {
                    acc[j] = fma(cw[j], cx[j], acc[j]);
                }
            }
            let mut sum: f32 = acc.iter().sum();
            for (a, b) in row[split..].iter().zip(&x[split..]) {
                sum = fma(*a, *b, sum);
            }
            *o = sum;
        }
    }
}

/// One row at a time, front to back, two accumulators to hide the FMA latency. Reading
/// the rows strictly in order is what keeps the hardware prefetchers streaming at full
/// DRAM speed: a 4-row kernel that shares each load of `x` (4 interleaved streams) and a
/// variant with non-temporal software prefetch both decoded the 15M model 25–35% slower
/// (docs/PERFORMANCE.md).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,fma")]
unsafe fn matvec_avx512(w: &[f32], x: &[f32], out: &mut [f32]) {
    use std::arch::x86_64::*;
    let n = x.len();
    let rows = out.len();
    assert!(w.len() >= rows * n);
    let (full, tail) = (n / 16 * 16, n % 16);
    let mask: __mmask16 = ((1u32 << tail) - 1) as u16;
    let xp = x.as_ptr();
    // SAFETY (whole body): every load reads row r < rows of `w` at columns < n (the tail
    // through a mask), inside the `rows · n` elements asserted above, or `x` at columns < n;
    // `r < rows = out.len()` for the store.
    unsafe {
        for r in 0..rows {
            let row = w.as_ptr().add(r * n);
            let (mut a0, mut a1) = (_mm512_setzero_ps(), _mm512_setzero_ps());
            let mut j = 0;
            while j + 32 <= full {
                a0 = _mm512_fmadd_ps(_mm512_loadu_ps(row.add(j)), _mm512_loadu_ps(xp.add(j)), a0);
                a1 = _mm512_fmadd_ps(_mm512_loadu_ps(row.add(j + 16)), _mm512_loadu_ps(xp.add(j + 16)), a1);
                j += 32;
            }
            if j < full {
                a0 = _mm512_fmadd_ps(_mm512_loadu_ps(row.add(j)), _mm512_loadu_ps(xp.add(j)), a0);
                j += 16;
            }
            if tail != 0 {
                a1 = _mm512_fmadd_ps(
                    _mm512_maskz_loadu_ps(mask, row.add(j)),
                    _mm512_maskz_loadu_ps(mask, xp.add(j)),
                    a1,
                );
            }
            *out.get_unchecked_mut(r) = _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
        }
    }
}

/// `out[r] = Σ_j w[r, j] · x[j]` for one thread's rows, on the widest vector unit in use
/// (`llamaforge_engine::cpu::simd::level`, so `LLAMAFORGE_SIMD` applies here too).
pub fn matvec_serial(w: &[f32], x: &[f32], out: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if level() == SimdLevel::Avx512 {
        // SAFETY: `level()` returns Avx512 only when AVX-512 F/BW/DQ/VL, AVX2 and FMA were
        // detected on this CPU, a superset of the kernel's `avx512f,fma`.
        return unsafe { matvec_avx512(w, x, out) };
    }
    matvec_lanes(w, x, out)
}

/// `w` `[R, N]` row-major, `x` `[N]` → `out` `[R]`; rows are split across the team's
/// threads when there is a team and the matrix is large enough to pay for the hand-over.
pub fn matvec(w: &[f32], x: &[f32], out: &mut [f32], team: Option<&Team>) {
    let n = x.len();
    assert_eq!(w.len(), out.len() * n, "matvec: [{}] weights for {} rows of {n}", w.len(), out.len());
    match team {
        Some(team) if w.len() >= PAR_MIN_WEIGHTS => {
            let rows = out.len();
            // ~8 chunks per thread (a slow thread's share is picked up by the others), each
            // at least CHUNK_MIN_WEIGHTS so a claim costs little next to its work
            let chunk = rows.div_ceil(8 * team.size()).max(CHUNK_MIN_WEIGHTS.div_ceil(n));
            let out = Disjoint::new(out);
            team.for_chunks(rows, chunk, &|r| {
                // SAFETY: the chunks of one `for_chunks` call are disjoint.
                let o = unsafe { out.range_mut(r.clone()) };
                matvec_serial(&w[r.start * n..r.end * n], x, o);
            });
        }
        _ => matvec_serial(w, x, out),
    }
}

/// `x · rsqrt(mean(x²) + eps) · weight` into `out` (all `[C]`).
pub fn rms_norm(x: &[f32], weight: &[f32], eps: f32, out: &mut [f32]) {
    let mean_square = x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32;
    let scale = 1.0 / (mean_square + eps).sqrt();
    for ((o, &v), &g) in out.iter_mut().zip(x).zip(weight) {
        *o = g * (scale * v);
    }
}

llamaforge_engine::simd_kernel! {
    /// One query head attending over the first `n = scores.len()` cached positions:
    /// `scores[t] = q·k_t · scale`, softmax, `out = Σ_t scores[t] · v_t`. `keys_t` is the
    /// head's keys transposed, `[D, S]` (row `i` holds component `i` of every position, rows
    /// `s_max` apart); `values` is `[S, D]`; `q` and `out` are `[D]`.
    pub fn attend_head(
        q: &[f32],
        keys_t: &[f32],
        values: &[f32],
        s_max: usize,
        scale: f32,
        scores: &mut [f32],
        out: &mut [f32],
    ) {
        attend_head_body::<FMA>(q, keys_t, values, s_max, scale, scores, out)
    }
}

/// The body of [`attend_head`], inlined into each instantiation `simd_kernel!` makes so its
/// loops are vectorized for that instruction set (`FMA`: fused multiply-adds are available).
/// Every loop runs along contiguous memory: scores along S (one row of `keys_t` per
/// component), the output along D.
#[inline(always)]
fn attend_head_body<const FMA: bool>(
    q: &[f32],
    keys_t: &[f32],
    values: &[f32],
    s_max: usize,
    scale: f32,
    scores: &mut [f32],
    out: &mut [f32],
) {
    let (d, n) = (q.len(), scores.len());
    assert!(out.len() == d && n > 0 && n <= s_max && keys_t.len() >= (d - 1) * s_max + n && values.len() >= n * d);
    let fma = |a: f32, b: f32, c: f32| if FMA { a.mul_add(b, c) } else { a * b + c };
    scores.fill(0.0);
    for (i, &qi) in q.iter().enumerate() {
        let qi = qi * scale;
        for (s, &k) in scores.iter_mut().zip(&keys_t[i * s_max..i * s_max + n]) {
            *s = fma(qi, k, *s);
        }
    }
    let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for s in scores.iter_mut() {
        *s = exp_f32_with::<FMA>(*s - max);
        sum += *s;
    }
    let inv = 1.0 / sum;
    out.fill(0.0);
    for (t, &p) in scores.iter().enumerate() {
        let w = p * inv;
        for (o, &v) in out.iter_mut().zip(&values[t * d..(t + 1) * d]) {
            *o = fma(w, v, *o);
        }
    }
}

/// `gate ← silu(gate) · up` (SwiGLU), in place; the engine's branch-free `exp` lets the
/// loop vectorize (libm's is a call per element).
pub fn swiglu(gate: &mut [f32], up: &[f32]) {
    for (g, &u) in gate.iter_mut().zip(up) {
        *g = *g / (1.0 + exp_f32_with::<false>(-*g)) * u;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Row counts from 1 to a few hundred, column counts around the 16/32-float steps, on
    /// one thread or split over a team of 2 or 3.
    #[test]
    fn matvec_matches_a_naive_loop() {
        let teams = [Team::new(2), Team::new(3)];
        for rows in [1usize, 3, 4, 5, 17, 40, 203] {
            for n in [1usize, 15, 16, 17, 32, 48, 63, 288] {
                let w: Vec<f32> = (0..rows * n).map(|i| ((i * 37 % 101) as f32 - 50.0) / 64.0).collect();
                let x: Vec<f32> = (0..n).map(|i| ((i * 13 % 29) as f32 - 14.0) / 16.0).collect();
                let want: Vec<f64> =
                    w.chunks(n).map(|row| row.iter().zip(&x).map(|(&a, &b)| a as f64 * b as f64).sum()).collect();
                let mut runs: Vec<(String, Vec<f32>)> = Vec::new();
                let mut out = vec![f32::NAN; rows];
                matvec(&w, &x, &mut out, None);
                runs.push(("one thread".into(), out));
                for team in &teams {
                    // `matvec` splits only large matrices; split these regardless
                    let mut out = vec![f32::NAN; rows];
                    let o = Disjoint::new(&mut out);
                    team.for_chunks(rows, 3, &|r| {
                        // SAFETY: disjoint ranges of one call
                        let o = unsafe { o.range_mut(r.clone()) };
                        matvec_serial(&w[r.start * n..r.end * n], &x, o);
                    });
                    runs.push((format!("team of {}", team.size()), out));
                }
                for (what, got) in runs {
                    for (r, (&g, &e)) in got.iter().zip(&want).enumerate() {
                        assert!(
                            (g as f64 - e).abs() <= 1e-5 * (1.0 + e.abs()),
                            "{rows}×{n} {what}, row {r}: {g} vs {e}"
                        );
                    }
                }
            }
        }
    }

    /// A matrix above the split threshold through the team path of `matvec` itself.
    #[test]
    fn large_matvec_on_a_team_matches_one_thread() {
        let (rows, n) = (1000, 97);
        let w: Vec<f32> = (0..rows * n).map(|i| ((i * 7 % 23) as f32 - 11.0) / 8.0).collect();
        let x: Vec<f32> = (0..n).map(|i| (i % 5) as f32 - 2.0).collect();
        let (mut one, mut two) = (vec![0.0; rows], vec![f32::NAN; rows]);
        matvec(&w, &x, &mut one, None);
        matvec(&w, &x, &mut two, Some(&Team::new(2)));
        assert_eq!(one, two);
    }

    /// `attend_head` against a direct f64 evaluation, with a cache longer than the
    /// positions in use and head sizes around the 16-float step.
    #[test]
    fn attend_head_matches_a_naive_evaluation() {
        for d in [1usize, 15, 16, 17, 48] {
            for n in [1usize, 2, 9, 100] {
                let s_max = n + 7;
                let q: Vec<f32> = (0..d).map(|i| ((i * 7 % 11) as f32 - 5.0) / 4.0).collect();
                // keys [D, S] (transposed), values [S, D]
                let keys_t: Vec<f32> = (0..d * s_max).map(|i| ((i * 13 % 17) as f32 - 8.0) / 8.0).collect();
                let values: Vec<f32> = (0..s_max * d).map(|i| ((i * 5 % 19) as f32 - 9.0) / 8.0).collect();
                let scale = 1.0 / (d as f32).sqrt();
                let (mut scores, mut out) = (vec![0.0; n], vec![f32::NAN; d]);
                attend_head(&q, &keys_t, &values, s_max, scale, &mut scores, &mut out);
                let logits: Vec<f64> = (0..n)
                    .map(|t| (0..d).map(|i| q[i] as f64 * keys_t[i * s_max + t] as f64).sum::<f64>() * scale as f64)
                    .collect();
                let max = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let z: f64 = logits.iter().map(|l| (l - max).exp()).sum();
                for i in 0..d {
                    let want: f64 = (0..n).map(|t| (logits[t] - max).exp() / z * values[t * d + i] as f64).sum();
                    assert!((out[i] as f64 - want).abs() < 1e-5, "d {d}, n {n}, [{i}]: {} vs {want}", out[i]);
                }
            }
        }
    }
}
