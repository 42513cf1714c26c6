//! Fused causal grouped-query attention, forward and backward, flash-attention style: the
//! `[T, T]` score matrix of a head is never materialized. Queries are processed in blocks
//! of `BLOCK` rows; each block's scores, probabilities and gradients are computed with
//! matrixmultiply GEMMs that read Q, K, V straight from their `[B, T, heads, D]` layout
//! through strides, and only the row log-sum-exp is saved for the backward pass.
//!
//! Shapes: q `[B, Tq, H, D]`, k and v `[B, Tk, KV, D]` (query head `h` reads kv head
//! `h / (H / KV)`), out `[B, Tq, H, D]`, lse `[B, H, Tq]`. With `causal`, query `i` sees
//! keys `j <= i + (Tk - Tq)` (so a KV cache of `Tk - Tq` earlier positions works too).
//! With a left-padding mask `kv_start` `[B]`, batch row `b` sees only keys
//! `j >= kv_start[b]`: every GEMM of that row starts at key `kv_start[b]` instead of 0, so
//! masked keys cost nothing and the unpadded path (start 0) is the same code. A query that
//! sees no key (a pad query) outputs 0 with `lse` = `T::max_value()` and gets no gradient.

use rayon::prelude::*;

use super::exp::exp_f32_with;
use super::matmul::{GemmDims, GemmElem};
use super::simd::{as_f32_mut, simd_kernel, LANES};
use crate::Float;

/// Query rows per block: big enough for efficient GEMMs, small enough that a block's
/// `[BLOCK, Tk]` scores stay in cache.
const BLOCK: usize = 64;

/// Problem sizes of one attention call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttnDims {
    pub b: usize,
    pub tq: usize,
    pub tk: usize,
    pub h: usize,
    pub kv: usize,
    pub d: usize,
}

/// `row[i] = e^(row[i] − shift)` in place; returns the sum. f32 rows use the vectorized
/// exp (libm's `expf` is a call per element, and this is the inner loop of attention).
fn exp_shifted_in_place<T: Float>(row: &mut [T], shift: T) -> T {
    if let Some(row) = as_f32_mut(row) {
        let shift = shift.to_f32().unwrap_or(f32::NAN);
        return T::from_f64_lossy(f64::from(exp_shifted_f32(row, shift)));
    }
    let mut sum = T::zero();
    for x in row.iter_mut() {
        *x = (*x - shift).exp();
        sum += *x;
    }
    sum
}

simd_kernel! {
    fn exp_shifted_f32(row: &mut [f32], shift: f32) -> f32 {
        let mut acc = [0.0f32; LANES];
        let mut chunks = row.chunks_exact_mut(LANES);
        for c in &mut chunks {
            for (a, x) in acc.iter_mut().zip(c.iter_mut()) {
                *x = exp_f32_with::<FMA>(*x - shift);
                *a += *x;
            }
        }
        let mut sum = 0.0;
        for x in chunks.into_remainder() {
            *x = exp_f32_with::<FMA>(*x - shift);
            sum += *x;
        }
        acc.iter().sum::<f32>() + sum
    }
}

/// Number of keys query `i` may see.
#[inline]
fn visible(i: usize, dims: &AttnDims, causal: bool) -> usize {
    if causal {
        (i + 1 + dims.tk - dims.tq).min(dims.tk)
    } else {
        dims.tk
    }
}

/// First key batch row `bi` may see (its left padding).
#[inline]
fn key_start(kv_start: Option<&[u32]>, bi: usize) -> usize {
    kv_start.map_or(0, |s| s[bi] as usize)
}

/// `scale · Q Kᵀ` `[rows, nk]` for `rows` queries of one head starting at `q_off` against
/// the `nk` keys of the kv head starting at `kv_off`, read through strides.
#[allow(clippy::too_many_arguments)]
fn block_scores<T: GemmElem>(
    q: &[T],
    k: &[T],
    q_off: usize,
    kv_off: usize,
    rows: usize,
    nk: usize,
    dims: &AttnDims,
    scale: T,
) -> Vec<T> {
    let (rs_q, rs_kv) = ((dims.h * dims.d) as isize, (dims.kv * dims.d) as isize);
    let mut s = vec![T::zero(); rows * nk];
    T::gemm_acc(
        GemmDims { m: rows, k: dims.d, n: nk },
        scale,
        (&q[q_off..], rs_q, 1),
        (&k[kv_off..], 1, rs_kv),
        T::zero(),
        &mut s,
        nk as isize,
    );
    s
}

/// Forward: returns `(out [B, Tq, H, D], lse [B, H, Tq])`.
pub fn attention<T: GemmElem>(
    q: &[T],
    k: &[T],
    v: &[T],
    dims: AttnDims,
    causal: bool,
    kv_start: Option<&[u32]>,
    scale: f64,
) -> (Vec<T>, Vec<T>) {
    let AttnDims { b, tq, tk, h, kv, d } = dims;
    let group = h / kv;
    let scale = T::from_f64_lossy(scale);
    let blocks = tq.div_ceil(BLOCK);
    // one task per (batch, head, query block); each returns its rows, scattered below
    let results: Vec<(Vec<T>, Vec<T>)> = (0..b * h * blocks)
        .into_par_iter()
        .map(|task| {
            let (bh, blk) = (task / blocks, task % blocks);
            let (bi, hi) = (bh / h, bh % h);
            let g = hi / group;
            let (r0, r1) = (blk * BLOCK, ((blk + 1) * BLOCK).min(tq));
            let rows = r1 - r0;
            // the block's keys: [lo, lo + nk)
            let lo = key_start(kv_start, bi);
            let nk = visible(r1 - 1, &dims, causal).saturating_sub(lo);
            // pad queries keep these: zero output, an lse whose exp(s − lse) is 0
            let mut o = vec![T::zero(); rows * d];
            let mut lse = vec![T::max_value(); rows];
            if nk == 0 {
                return (o, lse);
            }
            let q_off = ((bi * tq + r0) * h + hi) * d;
            let kv_off = ((bi * tk + lo) * kv + g) * d;
            let rs_kv = (kv * d) as isize;
            let mut s = block_scores(q, k, q_off, kv_off, rows, nk, &dims, scale); // [rows, nk]
            for (r, row) in s.chunks_mut(nk).enumerate() {
                let n = visible(r0 + r, &dims, causal).saturating_sub(lo);
                if n == 0 {
                    row.iter_mut().for_each(|x| *x = T::zero());
                    continue;
                }
                let max = row[..n].iter().fold(T::neg_infinity(), |m, &x| m.max(x));
                let sum = exp_shifted_in_place(&mut row[..n], max);
                let inv = T::one() / sum;
                row[..n].iter_mut().for_each(|x| *x *= inv);
                row[n..].iter_mut().for_each(|x| *x = T::zero());
                lse[r] = max + sum.ln();
            }
            // O = P V : [rows, d]
            T::gemm_acc(
                GemmDims { m: rows, k: nk, n: d },
                T::one(),
                (&s, nk as isize, 1),
                (&v[kv_off..], rs_kv, 1),
                T::zero(),
                &mut o,
                d as isize,
            );
            (o, lse)
        })
        .collect();
    let mut out = vec![T::zero(); b * tq * h * d];
    let mut lse_all = vec![T::zero(); b * h * tq];
    for (task, (o, lse)) in results.into_iter().enumerate() {
        let (bh, blk) = (task / blocks, task % blocks);
        let (bi, hi) = (bh / h, bh % h);
        let r0 = blk * BLOCK;
        for (r, row) in o.chunks(d).enumerate() {
            let off = ((bi * tq + r0 + r) * h + hi) * d;
            out[off..off + d].copy_from_slice(row);
        }
        lse_all[bh * tq + r0..bh * tq + r0 + lse.len()].copy_from_slice(&lse);
    }
    (out, lse_all)
}

/// Backward: from the forward's inputs, `out`, `lse` and the output gradient `dout`
/// `[B, Tq, H, D]`, returns `(dq [B,Tq,H,D], dk [B,Tk,KV,D], dv [B,Tk,KV,D])`.
///
/// With `P = softmax(S)`: `dV = Pᵀ dO`, `dP = dO Vᵀ`, `dS = P ⊙ (dP − rowsum(dO ⊙ O))`,
/// `dQ = scale · dS K`, `dK = scale · dSᵀ Q`. One task per (batch, kv head) owns that kv
/// head's dK and dV, so the H/KV query heads sharing it accumulate without races.
#[allow(clippy::too_many_arguments)]
pub fn attention_backward<T: GemmElem>(
    q: &[T],
    k: &[T],
    v: &[T],
    out: &[T],
    lse: &[T],
    dout: &[T],
    dims: AttnDims,
    causal: bool,
    kv_start: Option<&[u32]>,
    scale: f64,
) -> (Vec<T>, Vec<T>, Vec<T>) {
    let AttnDims { b, tq, tk, h, kv, d } = dims;
    let group = h / kv;
    let scale_t = T::from_f64_lossy(scale);
    let (rs_q, rs_kv) = ((h * d) as isize, (kv * d) as isize);
    let results: Vec<(Vec<T>, Vec<T>, Vec<T>)> = (0..b * kv)
        .into_par_iter()
        .map(|task| {
            let (bi, g) = (task / kv, task % kv);
            // keys before `lo` are padding: they and the queries that see only them keep
            // their zero gradients
            let lo = key_start(kv_start, bi);
            let kv_off = ((bi * tk + lo) * kv + g) * d;
            let mut dq = vec![T::zero(); group * tq * d]; // [group, Tq, D]
            let mut dk = vec![T::zero(); tk * d]; // [Tk, D]
            let mut dv = vec![T::zero(); tk * d];
            let (dk_lo, dv_lo) = (&mut dk[lo * d..], &mut dv[lo * d..]);
            for gh in 0..group {
                let hi = g * group + gh;
                for r0 in (0..tq).step_by(BLOCK) {
                    let r1 = (r0 + BLOCK).min(tq);
                    let rows = r1 - r0;
                    let nk = visible(r1 - 1, &dims, causal).saturating_sub(lo);
                    if nk == 0 {
                        continue;
                    }
                    let q_off = ((bi * tq + r0) * h + hi) * d;
                    // P = exp(scale · Q Kᵀ − lse), masked
                    let mut p = block_scores(q, k, q_off, kv_off, rows, nk, &dims, scale_t);
                    for (r, row) in p.chunks_mut(nk).enumerate() {
                        let n = visible(r0 + r, &dims, causal).saturating_sub(lo);
                        let l = lse[(bi * h + hi) * tq + r0 + r];
                        exp_shifted_in_place(&mut row[..n], l);
                        row[n..].iter_mut().for_each(|x| *x = T::zero());
                    }
                    // dV += Pᵀ dO
                    T::gemm_acc(
                        GemmDims { m: nk, k: rows, n: d },
                        T::one(),
                        (&p, 1, nk as isize),
                        (&dout[q_off..], rs_q, 1),
                        T::one(),
                        dv_lo,
                        d as isize,
                    );
                    // dP = dO Vᵀ
                    let mut ds = vec![T::zero(); rows * nk];
                    T::gemm_acc(
                        GemmDims { m: rows, k: d, n: nk },
                        T::one(),
                        (&dout[q_off..], rs_q, 1),
                        (&v[kv_off..], 1, rs_kv),
                        T::zero(),
                        &mut ds,
                        nk as isize,
                    );
                    // dS = P ⊙ (dP − Σ_d dO ⊙ O)
                    for r in 0..rows {
                        let at = q_off + r * h * d;
                        let di: T = dout[at..at + d].iter().zip(&out[at..at + d]).map(|(&a, &b)| a * b).sum();
                        for (x, &pv) in ds[r * nk..(r + 1) * nk].iter_mut().zip(&p[r * nk..(r + 1) * nk]) {
                            *x = pv * (*x - di);
                        }
                    }
                    // dQ = scale · dS K ; dK += scale · dSᵀ Q
                    let dq_off = (gh * tq + r0) * d;
                    T::gemm_acc(
                        GemmDims { m: rows, k: nk, n: d },
                        scale_t,
                        (&ds, nk as isize, 1),
                        (&k[kv_off..], rs_kv, 1),
                        T::zero(),
                        &mut dq[dq_off..],
                        d as isize,
                    );
                    T::gemm_acc(
                        GemmDims { m: nk, k: rows, n: d },
                        scale_t,
                        (&ds, 1, nk as isize),
                        (&q[q_off..], rs_q, 1),
                        T::one(),
                        dk_lo,
                        d as isize,
                    );
                }
            }
            (dq, dk, dv)
        })
        .collect();
    let mut dq_all = vec![T::zero(); b * tq * h * d];
    let mut dk_all = vec![T::zero(); b * tk * kv * d];
    let mut dv_all = vec![T::zero(); b * tk * kv * d];
    for (task, (dq, dk, dv)) in results.into_iter().enumerate() {
        let (bi, g) = (task / kv, task % kv);
        for gh in 0..group {
            let hi = g * group + gh;
            for i in 0..tq {
                let src = (gh * tq + i) * d;
                let dst = ((bi * tq + i) * h + hi) * d;
                dq_all[dst..dst + d].copy_from_slice(&dq[src..src + d]);
            }
        }
        for j in 0..tk {
            let dst = ((bi * tk + j) * kv + g) * d;
            dk_all[dst..dst + d].copy_from_slice(&dk[j * d..(j + 1) * d]);
            dv_all[dst..dst + d].copy_from_slice(&dv[j * d..(j + 1) * d]);
        }
    }
    (dq_all, dk_all, dv_all)
}
