//! Matrix·vector, the cost of decoding: every token streams all the weights once (61 MB
//! for the 15M preset, twice the 32 MiB L3), so this is a memory-bandwidth kernel. What
//! keeps it at the bandwidth ceiling:
//! - AVX-512 picked at run time (a default `cargo build` targets SSE2), four rows per pass
//!   so each load of `x` feeds four FMAs and four independent sums hide the FMA latency;
//! - both cores stream the classifier, in chunks of rows (`parallel.rs`); the layer
//!   matrices (≤ 1.8 MB each, read from L3) run on one thread, faster than a fork/join;
//! - [`Residency::Stream`] for the classifier: its 37 MB are fetched with a
//!   non-temporal prefetch so they pass through without evicting the 24 MB of layer weights
//!   from L3, which the next token then reads from cache instead of DRAM.

use super::parallel::parallel_for;

/// Whether a matrix's weights should stay in the cache after a matvec.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Residency {
    /// Read normally: the weights are reused next token and fit in L3 (the layers).
    Keep,
    /// Read through a non-temporal prefetch: too big to stay, so do not evict the rest
    /// (the classifier).
    Stream,
}

/// Below this many weights a matvec runs on one thread: a rayon fork/join (15–20 µs) costs
/// more than it saves. The largest 15M layer matrix (gate+up, 442K weights) takes ~25 µs
/// alone from L3; the classifier (9.2M) is DRAM-bound and needs both cores.
const PAR_MIN_WEIGHTS: usize = 1 << 20;

/// Rows per pass of the AVX-512 kernel.
const ROWS: usize = 4;

/// Weights per chunk handed to a thread: ~1 MB, large enough for the hardware prefetcher
/// to stream and to amortize a steal, small enough to balance a core busy elsewhere.
const CHUNK_WEIGHTS: usize = 1 << 18;

/// How far ahead of the current row block the non-temporal prefetch runs, in bytes.
const PREFETCH_AHEAD: usize = 4096;

/// `*mut f32` that may cross threads: each thread writes a disjoint range of rows.
#[derive(Clone, Copy)]
struct RowsOut(*mut f32);

impl RowsOut {
    /// The element at `offset` (a method, so closures capture the whole `Sync` wrapper).
    fn at(self, offset: usize) -> *mut f32 {
        self.0.wrapping_add(offset)
    }
}

// SAFETY: used only by `matvec`, whose chunks write disjoint ranges.
unsafe impl Sync for RowsOut {}
unsafe impl Send for RowsOut {}

/// `out[r] = Σ_j w[r, j] · x[j]` — `w` `[R, N]` row-major, `x` `[N]`, `out` `[R]`. Large
/// matrices are split into chunks of rows shared by rayon's threads.
pub fn matvec(w: &[f32], x: &[f32], out: &mut [f32], residency: Residency) {
    let n = x.len();
    assert_eq!(w.len(), out.len() * n, "matvec: [{}] weights for {} rows of {n}", w.len(), out.len());
    let rows = out.len();
    if w.len() < PAR_MIN_WEIGHTS {
        return matvec_serial(w, x, out, residency);
    }
    let chunk = (CHUNK_WEIGHTS / n).next_multiple_of(ROWS).min(rows.div_ceil(2).next_multiple_of(ROWS));
    let out_ptr = RowsOut(out.as_mut_ptr());
    parallel_for(rows, chunk, &|range| {
        // SAFETY: `parallel_for` hands out disjoint ranges within `0..rows`.
        let out = unsafe { std::slice::from_raw_parts_mut(out_ptr.at(range.start), range.len()) };
        matvec_serial(&w[range.start * n..range.end * n], x, out, residency);
    });
}

/// One thread's rows, on the widest vector unit present.
pub fn matvec_serial(w: &[f32], x: &[f32], out: &mut [f32], residency: Residency) {
    #[cfg(target_arch = "x86_64")]
    {
        if is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports avx512f (checked just above); the kernel reads
            // `w` only within `out.len() · x.len()` floats, which the callers assert.
            return unsafe { x86::matvec_avx512(w, x, out, residency == Residency::Stream) };
        }
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            // SAFETY: the CPU supports avx2 and fma (checked just above).
            return unsafe { x86::matvec_avx2(w, x, out) };
        }
    }
    // portable path: plain mul + add (mul_add without hardware FMA is a slow libm call)
    let n = x.len();
    for (o, row) in out.iter_mut().zip(w.chunks_exact(n)) {
        *o = row.iter().zip(x).map(|(a, b)| a * b).sum();
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::{PREFETCH_AHEAD, ROWS};

    /// AVX-512: `ROWS` rows per pass sharing each 16-float load of `x`, one accumulator per
    /// row, the ragged end of each row through a masked load. With `stream`, every cache
    /// line of the block `PREFETCH_AHEAD` bytes ahead is requested non-temporally.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn matvec_avx512(w: &[f32], x: &[f32], out: &mut [f32], stream: bool) {
        let n = x.len();
        debug_assert_eq!(w.len(), out.len() * n);
        let (full, tail) = (n / 16, n % 16);
        let tail_mask: __mmask16 = ((1u32 << tail) - 1) as __mmask16;
        let xp = x.as_ptr();
        let blocks = out.len() / ROWS;
        for b in 0..blocks {
            let wp = w.as_ptr().add(b * ROWS * n);
            let mut acc = [_mm512_setzero_ps(); ROWS];
            for j in 0..full {
                let xv = _mm512_loadu_ps(xp.add(16 * j));
                for (r, acc_r) in acc.iter_mut().enumerate() {
                    *acc_r = _mm512_fmadd_ps(_mm512_loadu_ps(wp.add(r * n + 16 * j)), xv, *acc_r);
                }
                if stream {
                    // ROWS lines per step cover the block's ROWS·N floats in `full` steps
                    // (exactly when N is a multiple of 16; close enough otherwise). A
                    // prefetch never faults, so running past the end of `w` is harmless.
                    let ahead = (wp as *const i8).wrapping_add(PREFETCH_AHEAD + ROWS * 64 * j);
                    for r in 0..ROWS {
                        _mm_prefetch::<_MM_HINT_NTA>(ahead.wrapping_add(64 * r));
                    }
                }
            }
            if tail != 0 {
                let xv = _mm512_maskz_loadu_ps(tail_mask, xp.add(16 * full));
                for (r, acc_r) in acc.iter_mut().enumerate() {
                    let wv = _mm512_maskz_loadu_ps(tail_mask, wp.add(r * n + 16 * full));
                    *acc_r = _mm512_fmadd_ps(wv, xv, *acc_r);
                }
            }
            for (r, acc_r) in acc.iter().enumerate() {
                *out.get_unchecked_mut(b * ROWS + r) = _mm512_reduce_add_ps(*acc_r);
            }
        }
        // the last out.len() % ROWS rows, one at a time
        for r in blocks * ROWS..out.len() {
            let wp = w.as_ptr().add(r * n);
            let mut acc = _mm512_setzero_ps();
            for j in 0..full {
                acc = _mm512_fmadd_ps(_mm512_loadu_ps(wp.add(16 * j)), _mm512_loadu_ps(xp.add(16 * j)), acc);
            }
            if tail != 0 {
                let wv = _mm512_maskz_loadu_ps(tail_mask, wp.add(16 * full));
                acc = _mm512_fmadd_ps(wv, _mm512_maskz_loadu_ps(tail_mask, xp.add(16 * full)), acc);
            }
            *out.get_unchecked_mut(r) = _mm512_reduce_add_ps(acc);
        }
    }

    /// AVX2 + FMA fallback: one row at a time, 16 lanes of accumulators.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn matvec_avx2(w: &[f32], x: &[f32], out: &mut [f32]) {
        const LANES: usize = 16;
        let n = x.len();
        let split = n - n % LANES;
        for (o, row) in out.iter_mut().zip(w.chunks_exact(n)) {
            let mut acc = [0.0f32; LANES];
            for (ca, cb) in row[..split].chunks_exact(LANES).zip(x[..split].chunks_exact(LANES)) {
                for j in 0..LANES {
                    acc[j] = ca[j].mul_add(cb[j], acc[j]);
                }
            }
            let mut sum: f32 = acc.iter().sum();
            for (a, b) in row[split..].iter().zip(&x[split..]) {
                sum = a.mul_add(*b, sum);
            }
            *o = sum;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Exact-enough oracle: f64 dot products.
    fn reference(w: &[f32], x: &[f32]) -> Vec<f32> {
        w.chunks_exact(x.len())
            .map(|row| row.iter().zip(x).map(|(&a, &b)| a as f64 * b as f64).sum::<f64>() as f32)
            .collect()
    }

    fn pseudo_random(len: usize, seed: u32) -> Vec<f32> {
        let mut state = seed.wrapping_mul(2654435761).max(1);
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                (state as f32 / u32::MAX as f32) - 0.5
            })
            .collect()
    }

    #[test]
    fn matches_reference_in_parallel_and_alone() {
        // widths with and without a ragged end of 16 lanes; row counts with and without a
        // ragged end of ROWS; sizes below and above PAR_MIN_WEIGHTS
        for (rows, n) in [(7, 5), (64, 64), (173, 172), (1000, 288), (4003, 288)] {
            let (w, x) = (pseudo_random(rows * n, rows as u32), pseudo_random(n, n as u32));
            let expected = reference(&w, &x);
            for residency in [Residency::Keep, Residency::Stream] {
                // repeated, so chunks land on different threads
                for _ in 0..20 {
                    let mut out = vec![f32::NAN; rows];
                    matvec(&w, &x, &mut out, residency);
                    for (r, (a, b)) in out.iter().zip(&expected).enumerate() {
                        assert!((a - b).abs() <= 1e-5 * (1.0 + b.abs()), "[{rows}, {n}] row {r}: {a} vs {b}");
                    }
                }
            }
        }
    }
}
