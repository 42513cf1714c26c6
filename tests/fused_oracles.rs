//! Every fused kernel against the composite of primitive ops it replaces (its oracle), in
//! f32 on model-like odd shapes: softmax (plain and causal), log_softmax, cross_entropy
//! and its backward, rms_norm and its backward, rope, and swiglu and its backward. (tests/gradcheck.rs holds
//! the backward kernels to their composites in f64 as well.)

mod common;

use common::{ids, max_abs_diff, max_rel_diff};
use llamaforge_engine::{DType, Tensor};

fn randn32(shape: &[usize], seed: u64) -> Tensor {
    Tensor::randn(shape, 2.0, DType::F32, seed)
}

/// `exp(x - max) / Σ exp(x - max)` with an additive −∞ causal mask.
fn softmax_composite(x: &Tensor, causal: bool) -> Tensor {
    let last = x.rank() - 1;
    let x = if causal {
        let (tq, tk) = (x.shape()[last - 1], x.shape()[last]);
        let mask: Vec<f32> =
            (0..tq * tk).map(|i| if i % tk > i / tk + (tk - tq) { f32::NEG_INFINITY } else { 0.0 }).collect();
        x.add(&Tensor::from_vec(mask, &[tq, tk]))
    } else {
        x.clone()
    };
    let e = x.sub(&x.max(last, true)).exp();
    e.div(&e.sum(last, true))
}

#[test]
fn softmax_matches_composite() {
    for causal in [false, true] {
        // the last two are above the parallel threshold (rows split across threads)
        for shape in [[1usize, 1, 1], [2, 3, 17], [3, 17, 17], [2, 5, 300], [2, 64, 300], [4, 96, 96]] {
            if causal && shape[1] > shape[2] {
                continue;
            }
            let x = randn32(&shape, 1);
            let err = max_abs_diff(&x.softmax(causal), &softmax_composite(&x, causal));
            assert!(err <= 1e-6, "softmax(causal={causal}) {shape:?}: {err:e}");
        }
    }
}

#[test]
fn log_softmax_and_cross_entropy_match_composite() {
    let x = randn32(&[17, 513], 2);
    let composite = x.sub(&x.max(1, true)).sub(&x.sub(&x.max(1, true)).exp().sum(1, true).log());
    assert!(max_abs_diff(&x.log_softmax(), &composite) <= 1e-5);

    let targets: Vec<u32> = (0..17).map(|i| if i % 5 == 4 { u32::MAX } else { (i * 37) % 513 }).collect();
    let fused = x.cross_entropy(&ids(&targets, &[17]), u32::MAX).to_scalar();
    let picked = composite.to_vec_f64();
    let kept: Vec<f64> = targets
        .iter()
        .enumerate()
        .filter(|(_, &t)| t != u32::MAX)
        .map(|(i, &t)| -picked[i * 513 + t as usize])
        .collect();
    let expected = kept.iter().sum::<f64>() / kept.len() as f64;
    assert!((fused - expected).abs() <= 1e-5 * expected.abs().max(1.0), "cross_entropy {fused} vs {expected}");
}

#[test]
fn cross_entropy_backward_matches_composite() {
    // f32, above the parallel threshold, with ignored rows and an upstream gradient ≠ 1
    let (rows, v, ignore) = (97usize, 513usize, u32::MAX);
    let x = randn32(&[rows, v], 5);
    let targets: Vec<u32> = (0..rows).map(|i| if i % 7 == 3 { ignore } else { ((i * 131) % v) as u32 }).collect();
    let count = targets.iter().filter(|&&t| t != ignore).count() as f32;
    let fused = x.cross_entropy_backward(&ids(&targets, &[rows]), ignore, &Tensor::scalar(0.7, DType::F32));
    let safe: Vec<u32> = targets.iter().map(|&t| if t == ignore { 0 } else { t }).collect();
    let valid: Vec<f32> = targets.iter().map(|&t| if t == ignore { 0.0 } else { 1.0 }).collect();
    let composite = x
        .softmax(false)
        .sub(&Tensor::one_hot(&ids(&safe, &[rows]), v, DType::F32))
        .mul(&Tensor::from_vec(valid, &[rows, 1]))
        .scale(0.7 / count as f64);
    assert!(max_abs_diff(&fused, &composite) <= 1e-7, "cross_entropy_backward vs composite");
}

#[test]
fn rms_norm_matches_composite() {
    let (x, w) = (randn32(&[3, 5, 288], 3), randn32(&[288], 4));
    let composite = x.mul(&x.square().mean(2, true).affine(1.0, 1e-5).sqrt().recip()).mul(&w);
    assert!(max_abs_diff(&x.rms_norm(&w, 1e-5), &composite) <= 1e-5);
}

#[test]
fn rms_norm_backward_matches_composite() {
    // 15M-model rows: [B, T, C] with C = 288, enough rows for several dw tasks in parallel
    let (x, w, g) = (randn32(&[4, 37, 288], 8), randn32(&[288], 9), randn32(&[4, 37, 288], 10));
    let r = x.square().mean(2, true).affine(1.0, 1e-5).sqrt().recip();
    let xhat = x.mul(&r);
    let gw = g.mul(&w);
    let want_dx = r.mul(&gw.sub(&xhat.mul(&gw.mul(&xhat).mean(2, true))));
    let want_dw = g.mul(&xhat).sum_to(&[288]);
    let (dx, dw) = x.rms_norm_backward(&w, &g, 1e-5);
    assert!(max_rel_diff(&dx, &want_dx, 1.0) <= 1e-5, "dx: {:e}", max_rel_diff(&dx, &want_dx, 1.0));
    // dw sums 148 rows: f32 rounding of the sum, relative to the size of its terms
    assert!(max_rel_diff(&dw, &want_dw, 10.0) <= 1e-5, "dweight: {:e}", max_rel_diff(&dw, &want_dw, 10.0));
}

#[test]
fn rope_matches_rotation_formula_and_inverts() {
    let (b, t, h, d) = (2, 7, 3, 8);
    let x = randn32(&[b, t, h, d], 5);
    let y = x.rope(3, None, 10000.0, false);
    let (xs, ys) = (x.to_vec_f64(), y.to_vec_f64());
    for (n, (xv, yv)) in xs.chunks(d).zip(ys.chunks(d)).enumerate() {
        let pos = (3 + (n / h) % t) as f64;
        for i in 0..d / 2 {
            let a = pos * 10000f64.powf(-2.0 * i as f64 / d as f64);
            let (c, s) = (a.cos(), a.sin());
            assert!((yv[2 * i] - (xv[2 * i] * c - xv[2 * i + 1] * s)).abs() < 1e-5);
            assert!((yv[2 * i + 1] - (xv[2 * i] * s + xv[2 * i + 1] * c)).abs() < 1e-5);
        }
    }
    assert!(max_abs_diff(&y.rope(3, None, 10000.0, true), &x) <= 1e-5, "inverse rotation restores the input");
}

#[test]
fn swiglu_matches_composite() {
    let (a, b) = (randn32(&[17, 301], 6), randn32(&[17, 301], 7));
    assert!(max_abs_diff(&a.swiglu(&b), &a.silu().mul(&b)) <= 1e-5);
    assert!(max_abs_diff(&a.silu(), &a.mul(&a.sigmoid())) <= 1e-5);
}

#[test]
fn swiglu_backward_matches_composite() {
    let (a, b, g) = (randn32(&[17, 301], 11), randn32(&[17, 301], 12), randn32(&[17, 301], 13));
    let s = a.sigmoid();
    let dsilu = s.mul(&a.mul(&s.affine(-1.0, 1.0)).affine(1.0, 1.0));
    let (da, db) = a.swiglu_backward(&b, &g);
    assert!(max_rel_diff(&da, &g.mul(&b).mul(&dsilu), 1.0) <= 1e-5);
    assert!(max_rel_diff(&db, &g.mul(&a.silu()), 1.0) <= 1e-5);
}
