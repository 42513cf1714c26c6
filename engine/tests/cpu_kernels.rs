//! The vectorized f32 CPU kernels against straightforward f64 scalar references, on odd
//! sizes (1, 3, 17, 1000: tails shorter than a vector, rows that are not a multiple of
//! the lane count, and sizes large enough for the parallel paths).
//!
//! The SIMD level under test is whatever the machine has; run with
//! `LLAMAFORGE_SIMD=baseline` or `=avx2` to check the other instantiations.

use llamaforge_engine::cpu::exp::{exp_f32, exp_f32_with};
use llamaforge_engine::{AdamWParams, DType, Tensor};

const SIZES: [usize; 4] = [1, 3, 17, 1000];
const TOL: f64 = 1e-5;

/// Rows so that the 1000-wide case crosses the parallel threshold (32768 elements).
fn rows_for(cols: usize) -> usize {
    if cols >= 1000 {
        37
    } else {
        5
    }
}

fn randn(shape: &[usize], std: f64, seed: u64) -> Tensor {
    Tensor::randn(shape, std, DType::F32, seed)
}

/// The f32 tensor's values, widened, so references are computed from exactly its inputs.
fn f64s(t: &Tensor) -> Vec<f64> {
    t.to_vec::<f32>().into_iter().map(f64::from).collect()
}

/// `|got - want| ≤ TOL · max(|want|, floor)` elementwise; `floor` bounds the relative error
/// of values that are exact cancellations (rope) or exact zeros.
#[track_caller]
fn assert_close(what: &str, got: &[f32], want: &[f64], floor: f64) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let err = (g as f64 - w).abs() / w.abs().max(floor);
        assert!(err <= TOL, "{what}: element {i}: got {g}, want {w} (relative error {err:e})");
    }
}

#[test]
fn fast_exp_matches_f64_over_the_whole_range() {
    // every 97th f32 bit pattern between -104 and 89 (plus a dense sweep near 0)
    let mut worst = 0.0f64;
    let mut checked = 0;
    let mut x = -103.9f32;
    while x < 88.7 {
        let want = (x as f64).exp();
        let got = exp_f32(x) as f64;
        // the normal range is held to 2e-7; subnormal results to their absolute spacing
        if want >= f32::MIN_POSITIVE as f64 {
            worst = worst.max((got - want).abs() / want);
        } else {
            assert!((got - want).abs() <= 2.0 * 1.4e-45, "exp({x}) = {got}, want {want}");
        }
        checked += 1;
        x = f32::from_bits(if x < 0.0 { x.to_bits() - 97 } else { x.to_bits() + 97 });
        if x.abs() < 1e-30 {
            x = 1e-30;
        }
    }
    for i in -20000..=20000 {
        let x = i as f32 * 1e-3;
        worst = worst.max((exp_f32(x) as f64 - (x as f64).exp()).abs() / (x as f64).exp());
    }
    assert!(checked > 100_000, "swept only {checked} inputs");
    eprintln!("fast exp: {checked} inputs, worst relative error {worst:e}");
    assert!(worst <= 2e-7, "fast exp: worst relative error {worst:e}");
}

#[test]
fn fast_exp_with_fused_multiply_add() {
    // the variant the AVX2/AVX-512 kernels use (here through software fma, so coarser)
    let mut worst = 0.0f64;
    for i in 0..=200_000 {
        let x = -87.0 + 175.0 * i as f32 / 200_000.0;
        let want = (x as f64).exp();
        worst = worst.max((exp_f32_with::<true>(x) as f64 - want).abs() / want);
    }
    assert!(worst <= 2e-7, "fast exp (fma): worst relative error {worst:e}");
    assert_eq!(exp_f32_with::<true>(f32::NEG_INFINITY), 0.0);
    assert!(exp_f32_with::<true>(f32::NAN).is_nan());
}

#[test]
fn fast_exp_edge_cases() {
    assert_eq!(exp_f32(f32::NEG_INFINITY), 0.0);
    assert_eq!(exp_f32(-1e30), 0.0);
    assert_eq!(exp_f32(-104.0), 0.0);
    assert_eq!(exp_f32(-1000.0), 0.0);
    assert_eq!(exp_f32(0.0), 1.0);
    assert_eq!(exp_f32(89.0), f32::INFINITY);
    assert_eq!(exp_f32(f32::INFINITY), f32::INFINITY);
    assert_eq!(exp_f32(1e30), f32::INFINITY);
    assert!(exp_f32(f32::NAN).is_nan());
    // the largest finite result is still finite
    assert!(exp_f32(88.72).is_finite());
}

#[test]
fn exp_sigmoid_silu_unary_ops() {
    for n in SIZES.into_iter().chain([40_000]) {
        let x = randn(&[n], 6.0, n as u64);
        let xs = f64s(&x);
        let exp: Vec<f64> = xs.iter().map(|v| v.exp()).collect();
        let sigmoid: Vec<f64> = xs.iter().map(|v| 1.0 / (1.0 + (-v).exp())).collect();
        let silu: Vec<f64> = xs.iter().map(|v| v / (1.0 + (-v).exp())).collect();
        assert_close(&format!("exp n={n}"), &x.exp().to_vec::<f32>(), &exp, 1e-30);
        assert_close(&format!("sigmoid n={n}"), &x.sigmoid().to_vec::<f32>(), &sigmoid, 1e-30);
        assert_close(&format!("silu n={n}"), &x.silu().to_vec::<f32>(), &silu, 1e-30);
    }
}

fn softmax_ref(row: &[f64]) -> Vec<f64> {
    let max = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let sum: f64 = row.iter().map(|v| (v - max).exp()).sum();
    row.iter().map(|v| (v - max).exp() / sum).collect()
}

#[test]
fn softmax_and_log_softmax() {
    for c in SIZES {
        let r = rows_for(c);
        let x = randn(&[r, c], 3.0, c as u64);
        let xs = f64s(&x);
        let want: Vec<f64> = xs.chunks(c).flat_map(softmax_ref).collect();
        assert_close(&format!("softmax [{r}, {c}]"), &x.softmax(false).to_vec::<f32>(), &want, 1e-30);
        let want_log: Vec<f64> = xs
            .chunks(c)
            .flat_map(|row| {
                let max = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let lse = max + row.iter().map(|v| (v - max).exp()).sum::<f64>().ln();
                row.iter().map(move |v| v - lse).collect::<Vec<_>>()
            })
            .collect();
        // log-probabilities near 0 are differences of nearly equal numbers: floor at 1
        assert_close(&format!("log_softmax [{r}, {c}]"), &x.log_softmax().to_vec::<f32>(), &want_log, 1.0);
    }
}

#[test]
fn causal_softmax_masks_the_future() {
    for (tq, tk) in [(1, 1), (3, 3), (17, 17), (3, 17), (40, 1000)] {
        let b = 2;
        let x = randn(&[b, tq, tk], 3.0, (tq * tk) as u64);
        let xs = f64s(&x);
        let got = x.softmax(true).to_vec::<f32>();
        let mut want = vec![0.0; b * tq * tk];
        for (r, (src, dst)) in xs.chunks(tk).zip(want.chunks_mut(tk)).enumerate() {
            let visible = r % tq + 1 + tk - tq;
            dst[..visible].copy_from_slice(&softmax_ref(&src[..visible]));
        }
        assert_close(&format!("causal softmax [{b}, {tq}, {tk}]"), &got, &want, 1e-30);
        for (r, row) in got.chunks(tk).enumerate() {
            let visible = r % tq + 1 + tk - tq;
            assert!(row[visible..].iter().all(|&p| p == 0.0), "row {r}: masked keys must be exactly 0");
        }
    }
}

#[test]
fn cross_entropy_with_ignore_index() {
    for c in SIZES {
        let r = rows_for(c);
        let logits = randn(&[r, c], 3.0, 7 + c as u64);
        let ignore = u32::MAX;
        let targets: Vec<u32> = (0..r as u32).map(|i| if i % 4 == 1 { ignore } else { (i * 7) % c as u32 }).collect();
        let xs = f64s(&logits);
        let (mut sum, mut count) = (0.0, 0);
        for (row, &t) in xs.chunks(c).zip(&targets) {
            if t != ignore {
                let max = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                sum += max + row.iter().map(|v| (v - max).exp()).sum::<f64>().ln() - row[t as usize];
                count += 1;
            }
        }
        let got = logits.cross_entropy(&Tensor::from_vec(targets, &[r]), ignore).to_vec::<f32>();
        assert_close(&format!("cross_entropy [{r}, {c}]"), &got, &[sum / count as f64], 1e-30);
    }
}

#[test]
fn rms_norm_rows() {
    for c in SIZES {
        let r = rows_for(c);
        let x = randn(&[r, c], 2.0, 11 + c as u64);
        let w = randn(&[c], 1.0, 13 + c as u64);
        let (xs, ws) = (f64s(&x), f64s(&w));
        let want: Vec<f64> = xs
            .chunks(c)
            .flat_map(|row| {
                let rstd = 1.0 / (row.iter().map(|v| v * v).sum::<f64>() / c as f64 + 1e-5).sqrt();
                row.iter().zip(&ws).map(move |(v, g)| v * rstd * g).collect::<Vec<_>>()
            })
            .collect();
        assert_close(&format!("rms_norm [{r}, {c}]"), &x.rms_norm(&w, 1e-5).to_vec::<f32>(), &want, 1e-30);
    }
}

#[test]
fn rms_norm_backward_rows() {
    for c in SIZES {
        let r = rows_for(c);
        let x = randn(&[r, c], 2.0, 41 + c as u64);
        let w = randn(&[c], 1.0, 43 + c as u64);
        let g = randn(&[r, c], 1.0, 47 + c as u64);
        let (xs, ws, gs) = (f64s(&x), f64s(&w), f64s(&g));
        let (mut want_dx, mut want_dw) = (Vec::new(), vec![0.0; c]);
        for (row, grow) in xs.chunks(c).zip(gs.chunks(c)) {
            let rstd = 1.0 / (row.iter().map(|v| v * v).sum::<f64>() / c as f64 + 1e-5).sqrt();
            let dot: f64 = row.iter().zip(grow).zip(&ws).map(|((v, g), w)| v * g * w).sum();
            for (j, (v, g)) in row.iter().zip(grow).enumerate() {
                want_dx.push(rstd * g * ws[j] - v * rstd.powi(3) * dot / c as f64);
                want_dw[j] += g * v * rstd;
            }
        }
        let (dx, dw) = x.rms_norm_backward(&w, &g, 1e-5);
        // dx is a difference of two terms of size ~|g·w·r|: floor the relative error there
        assert_close(&format!("rms_norm_backward dx [{r}, {c}]"), &dx.to_vec::<f32>(), &want_dx, 1.0);
        // dw sums r terms of size ~1 with either sign
        assert_close(&format!("rms_norm_backward dw [{r}, {c}]"), &dw.to_vec::<f32>(), &want_dw, r as f64);
        let (_, again) = x.rms_norm_backward(&w, &g, 1e-5);
        assert_eq!(dw.to_vec::<f32>(), again.to_vec::<f32>(), "dw is the same bits run to run");
    }
}

#[test]
fn rope_both_directions() {
    // D = 2·pairs with 1, 3, 17 pairs, and a long T for the parallel path and table blocks;
    // per-row offsets (left padding: negative positions) on a short and a long T
    let (none, three, two): (&[i64], &[i64], &[i64]) = (&[], &[0, -3, -5], &[-40, 7]);
    let cases = [
        (1, 1, 1, 2, 0, none),
        (2, 3, 3, 6, 5, none),
        (1, 17, 2, 34, 100, none),
        (2, 1000, 1, 18, 3, none),
        (3, 5, 2, 6, 0, three),
        (2, 1000, 1, 18, 2, two),
    ];
    for (b, t, h, d, offset, rows) in cases {
        let row_offsets = (!rows.is_empty()).then_some(rows);
        let x = randn(&[b, t, h, d], 1.0, (t * d) as u64);
        let xs = f64s(&x);
        for inverse in [false, true] {
            let sign = if inverse { -1.0 } else { 1.0 };
            let mut want = xs.clone();
            for (row, (src, dst)) in xs.chunks(h * d).zip(want.chunks_mut(h * d)).enumerate() {
                let shift = row_offsets.map_or(0, |o| o[row / t]);
                let p = (offset + row % t) as f64 + shift as f64;
                for (s, o) in src.chunks(d).zip(dst.chunks_mut(d)) {
                    for i in 0..d / 2 {
                        let angle = p * 10000f64.powf(-2.0 * i as f64 / d as f64);
                        let (sn, c) = (sign * angle.sin(), angle.cos());
                        o[2 * i] = s[2 * i] * c - s[2 * i + 1] * sn;
                        o[2 * i + 1] = s[2 * i] * sn + s[2 * i + 1] * c;
                    }
                }
            }
            let got = x.rope(offset, row_offsets, 10000.0, inverse).to_vec::<f32>();
            // the rotated pair has the norm of the input pair (~1): floor at 1
            let what = format!("rope [{b}, {t}, {h}, {d}] rows {row_offsets:?} inverse={inverse}");
            assert_close(&what, &got, &want, 1.0);
        }
    }
}

#[test]
fn swiglu_gate() {
    for n in SIZES.into_iter().chain([40_000]) {
        let a = randn(&[n], 4.0, 17 + n as u64);
        let b = randn(&[n], 1.0, 19 + n as u64);
        let want: Vec<f64> = f64s(&a).iter().zip(f64s(&b)).map(|(x, y)| x / (1.0 + (-x).exp()) * y).collect();
        assert_close(&format!("swiglu n={n}"), &a.swiglu(&b).to_vec::<f32>(), &want, 1e-30);
    }
}

#[test]
fn swiglu_backward_gate() {
    for n in SIZES.into_iter().chain([40_000]) {
        let a = randn(&[n], 4.0, 53 + n as u64);
        let b = randn(&[n], 1.0, 59 + n as u64);
        let g = randn(&[n], 1.0, 61 + n as u64);
        let (mut want_da, mut want_db) = (Vec::new(), Vec::new());
        for ((x, y), g) in f64s(&a).into_iter().zip(f64s(&b)).zip(f64s(&g)) {
            let s = 1.0 / (1.0 + (-x).exp());
            want_da.push(g * y * s * (1.0 + x * (1.0 - s)));
            want_db.push(g * x * s);
        }
        let (da, db) = a.swiglu_backward(&b, &g);
        // 1 + a·(1 − s) cancels to 0 near a ≈ −1.28: floor the relative error of da at the
        // size of g·b (~1) rather than at the result
        assert_close(&format!("swiglu_backward da n={n}"), &da.to_vec::<f32>(), &want_da, 1.0);
        assert_close(&format!("swiglu_backward db n={n}"), &db.to_vec::<f32>(), &want_db, 1e-30);
    }
}

#[test]
fn adamw_steps() {
    for n in SIZES.into_iter().chain([40_000]) {
        let mut p = randn(&[n], 0.5, 23 + n as u64);
        let g = randn(&[n], 0.1, 29 + n as u64);
        let mut m = randn(&[n], 0.01, 31 + n as u64);
        let mut v = Tensor::rand_uniform(&[n], 0.0, 0.01, DType::F32, 37 + n as u64);
        let hp = AdamWParams { lr: 1e-2, beta1: 0.9, beta2: 0.95, eps: 1e-5, weight_decay: 0.1, step: 3 };
        let (ps, gs, ms, vs) = (f64s(&p), f64s(&g), f64s(&m), f64s(&v));
        let (bc1, bc2) = (1.0 - 0.9f64.powi(3), 1.0 - 0.95f64.powi(3));
        let (mut want_p, mut want_m, mut want_v) = (vec![], vec![], vec![]);
        for i in 0..n {
            let m2 = 0.9 * ms[i] + 0.1 * gs[i];
            let v2 = 0.95 * vs[i] + 0.05 * gs[i] * gs[i];
            let p2 = ps[i] * (1.0 - 1e-2 * 0.1) - 1e-2 * (m2 / bc1) / ((v2 / bc2).sqrt() + 1e-5);
            want_p.push(p2);
            want_m.push(m2);
            want_v.push(v2);
        }
        Tensor::adamw(&mut p, &g, &mut m, &mut v, hp);
        // m = 0.9·m + 0.1·g and p - update can cancel to tiny values: floor the relative
        // error at the size of the terms (~1e-2) rather than the result
        assert_close(&format!("adamw p n={n}"), &p.to_vec::<f32>(), &want_p, 1e-2);
        assert_close(&format!("adamw m n={n}"), &m.to_vec::<f32>(), &want_m, 1e-2);
        assert_close(&format!("adamw v n={n}"), &v.to_vec::<f32>(), &want_v, 1e-30);
    }
}
