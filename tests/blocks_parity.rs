//! Matches the PyTorch reference fixtures of tests/reference/blocks.py: a causal GQA
//! attention block with interleaved RoPE, and a pre-norm RMSNorm + SwiGLU MLP block, in
//! f32 — outputs within 1e-5 absolute, every input and weight gradient within 1e-4 relative.

mod common;

use std::collections::HashMap;

use llamaforge_autograd::Var;
use llamaforge_engine::Tensor;

/// Loads every f32 tensor of a safetensors fixture by name.
fn load(path: &str) -> HashMap<String, Tensor> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap_or_else(|e| panic!("{path}: {e}"));
    st.tensors()
        .into_iter()
        .filter(|(_, v)| v.dtype() == safetensors::Dtype::F32)
        .map(|(name, v)| {
            let data: Vec<f32> =
                v.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
            (name, Tensor::from_vec(data, v.shape()))
        })
        .collect()
}

/// Output within 1e-5 absolute; gradients within 1e-4 of the reference, relative to the
/// reference's magnitude with a floor of 1e-3 of its largest entry (so entries that are
/// ~0 are compared on the scale of the tensor, not divided by ~0).
fn assert_matches(f: &HashMap<String, Tensor>, out: &Var, params: &[(&str, &Var)]) {
    let out_err = common::max_abs_diff(&out.value(), &f["out"]);
    assert!(out_err <= 1e-5, "out differs from PyTorch by {out_err:.3e}");
    out.backward_with(f["dy"].clone());
    for (name, var) in params {
        let reference = &f[&format!("grad.{name}")];
        let scale = reference.to_vec_f64().iter().fold(0.0f64, |m, x| m.max(x.abs()));
        let err = common::max_rel_diff(&var.grad().expect("gradient"), reference, 1e-3 * scale);
        assert!(err <= 1e-4, "grad.{name} differs from PyTorch: relative error {err:.3e}");
    }
}

#[test]
fn attention_block_matches_pytorch() {
    let f = load("tests/fixtures/attention_block.safetensors");
    let p = |n: &str| Var::leaf(f[n].clone());
    let (x, wq, wk, wv, wo) = (p("x"), p("wq"), p("wk"), p("wv"), p("wo"));
    let out = common::blocks::attention(&x, &wq, &wk, &wv, &wo, 4, 2, 10000.0);
    assert_matches(&f, &out, &[("x", &x), ("wq", &wq), ("wk", &wk), ("wv", &wv), ("wo", &wo)]);
}

#[test]
fn mlp_block_matches_pytorch() {
    let f = load("tests/fixtures/mlp_block.safetensors");
    let p = |n: &str| Var::leaf(f[n].clone());
    let (x, g, w1, w2, w3) = (p("x"), p("g"), p("w1"), p("w2"), p("w3"));
    let out = common::blocks::mlp(&x, &g, &w1, &w2, &w3, 1e-5);
    assert_matches(&f, &out, &[("x", &x), ("g", &g), ("w1", &w1), ("w2", &w2), ("w3", &w3)]);
}
