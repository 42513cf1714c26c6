//! Ten AdamW steps against torch.optim.AdamW (tests/reference/adamw.py): lr 1e-2, betas
//! (0.9, 0.95), eps 1e-5, weight decay 0.1 on every parameter; parameters after each step
//! within 1e-5 relative. Plus global-norm clipping against its definition.

mod common;

use llamaforge_autograd::Var;
use llamaforge_engine::Tensor;
use llamaforge_training::optim::{clip_scale, global_grad_norm, AdamW, AdamWConfig, DecayPolicy};

fn load(path: &str) -> std::collections::HashMap<String, Tensor> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap_or_else(|e| panic!("{path}: {e}"));
    st.tensors()
        .into_iter()
        .map(|(name, v)| {
            let data: Vec<f32> =
                v.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
            (name, Tensor::from_vec(data, v.shape()))
        })
        .collect()
}

#[test]
fn ten_steps_match_pytorch() {
    let f = load("tests/fixtures/adamw_10_steps.safetensors");
    let w = Var::parameter("w", f["w0"].clone());
    let b = Var::parameter("b", f["b0"].clone());
    let config = AdamWConfig { decay: DecayPolicy::All, ..AdamWConfig::default() };
    let mut opt = AdamW::new(vec![w.clone(), b.clone()], config);
    for step in 0..10 {
        // the fixture's gradients, fed through backward so the optimizer sees real grads
        let gw = f["grads_w"].narrow(0, step, 1).reshape(&[4, 3]);
        let gb = f["grads_b"].narrow(0, step, 1).reshape(&[3]);
        w.mul(&Var::constant(gw)).sum_all().add(&b.mul(&Var::constant(gb)).sum_all()).backward();
        opt.step(1e-2, 1.0);
        for (name, var, expected) in [("w", &w, "w_after"), ("b", &b, "b_after")] {
            let shape = var.shape();
            let reference = f[expected].narrow(0, step, 1).reshape(&shape);
            let err = common::max_rel_diff(&var.value(), &reference, 1e-3);
            assert!(err <= 1e-5, "{name} after step {}: relative error {err:.3e}", step + 1);
        }
    }
}

#[test]
fn clipping_scales_to_the_max_norm() {
    let a = Var::parameter("a", Tensor::from_vec(vec![3.0f32, 0.0], &[2]));
    let b = Var::parameter("b", Tensor::from_vec(vec![0.0f32, 4.0], &[1, 2]));
    a.mul(&Var::constant(Tensor::from_vec(vec![3.0f32, 0.0], &[2]))).sum_all().backward();
    b.mul(&Var::constant(Tensor::from_vec(vec![0.0f32, 4.0], &[1, 2]))).sum_all().backward();
    let norm = global_grad_norm(&[a, b]);
    assert!((norm - 5.0).abs() < 1e-6, "global norm of (3,0),(0,4) is 5, got {norm}");
    assert!((clip_scale(norm, 1.0) - 1.0 / (5.0 + 1e-6)).abs() < 1e-12);
    assert_eq!(clip_scale(0.5, 1.0), 1.0, "small gradients are left alone");
}
