//! Per-token log-probs of the training model (PPO's ratio): the chunked LM-head path equals
//! the whole-logits composite in value and gradient, and `Llama::token_log_probs` matches
//! Hugging Face (fixture from tests/reference/token_log_probs.py).

use std::path::PathBuf;

use llamaforge_autograd::Var;
use llamaforge_engine::{DType, Tensor};
use llamaforge_model::checkpoint::load_hf_dir;
use llamaforge_model::checkpoint::rope_layout::hf_to_interleaved;
use llamaforge_model::checkpoint::safetensors_io::read_f32_tensors;
use llamaforge_model::layers::linear;
use llamaforge_model::loss::{lm_head_token_log_probs, token_log_probs};
use llamaforge_model::{preset, Llama};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures")
}

/// Value and gradients (hidden, head) of `Σ_n r_n · log p_n` for f64 leaves.
fn weighted_log_probs(max_logits: Option<usize>, targets: &Tensor) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let n = targets.shape()[0];
    let (c, v) = (6, 11);
    let h = Var::leaf(Tensor::randn(&[n, c], 1.0, DType::F64, 1));
    let w = Var::leaf(Tensor::randn(&[v, c], 1.0, DType::F64, 2));
    let log_probs = match max_logits {
        Some(max_logits) => lm_head_token_log_probs(&h, &w, targets, max_logits),
        None => linear(&h, &w).log_softmax().gather(targets), // the composite, whole logits
    };
    let r = Var::constant(Tensor::randn(&[n], 1.0, DType::F64, 3));
    log_probs.mul(&r).sum_all().backward();
    (log_probs.value().to_vec_f64(), h.grad().unwrap().to_vec_f64(), w.grad().unwrap().to_vec_f64())
}

#[test]
fn chunked_log_probs_equal_whole_logits_in_value_and_gradients() {
    let n = 37;
    let targets = Tensor::from_vec((0..n as u32).map(|i| (i * 5 + 3) % 11).collect(), &[n]);
    let whole = weighted_log_probs(None, &targets);
    assert!(whole.0.iter().all(|&lp| lp < 0.0));
    // 5 rows per chunk (8 chunks, the last one short), one row per chunk, and unchunked
    for max_logits in [5 * 11, 11, usize::MAX] {
        let chunked = weighted_log_probs(Some(max_logits), &targets);
        for (what, a, b) in [
            ("value", &chunked.0, &whole.0),
            ("hidden grad", &chunked.1, &whole.1),
            ("head grad", &chunked.2, &whole.2),
        ] {
            assert_eq!(a.len(), b.len());
            for (x, y) in a.iter().zip(b) {
                assert!((x - y).abs() < 1e-12, "max_logits {max_logits}: {what} {x} vs {y}");
            }
        }
    }
}

/// `Llama::token_log_probs` (hidden of the first T-1 positions, chunked head) equals the
/// composite over the full forward's logits, value and every parameter gradient.
#[test]
fn llama_token_log_probs_equal_the_composite_over_full_logits() {
    for tied in [false, true] {
        let mut config = preset("tiny").unwrap();
        config.tied_embeddings = tied;
        let model = Llama::new_random(&config, 5).unwrap();
        let ids = Tensor::from_vec(vec![1u32, 5, 9, 33, 2, 63, 17, 1, 40, 40, 3, 8, 12, 60], &[2, 7]);
        let r = Var::constant(Tensor::randn(&[2, 6], 1.0, DType::F32, 4));
        let run = |log_probs: Var| {
            model.zero_grad();
            log_probs.mul(&r).sum_all().backward();
            let grads: Vec<Vec<f64>> = model.parameters().iter().map(|p| p.grad().unwrap().to_vec_f64()).collect();
            (log_probs.value(), grads)
        };
        let (got, got_grads) = run(model.token_log_probs(&ids));
        let (want, want_grads) = run(token_log_probs(&model.forward(&ids), &ids));
        assert_eq!(got.shape(), [2, 6]);
        let worst = got.to_vec_f64().iter().zip(want.to_vec_f64()).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        assert!(worst <= 1e-6, "tied {tied}: log-probs differ by {worst:e}");
        for (param, (a, b)) in model.parameters().iter().zip(got_grads.iter().zip(&want_grads)) {
            let scale = b.iter().fold(0.0f64, |m, x| m.max(x.abs()));
            let worst = a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max);
            assert!(
                worst <= 1e-5 * scale,
                "tied {tied}: {} gradient differs by {worst:e} (max {scale:e})",
                param.name().unwrap()
            );
        }
    }
}

#[test]
fn hf_tiny_llama_token_log_probs_and_gradients_match() {
    let checkpoint = load_hf_dir(&fixtures().join("hf_tiny_llama")).unwrap();
    let config = checkpoint.config.clone();
    let model = checkpoint.into_model().unwrap();
    let reference = read_f32_tensors(&fixtures().join("hf_token_log_probs.safetensors")).unwrap();
    // ids come back as exact f32 values
    let ids_f32 = &reference["input_ids"];
    let ids = Tensor::from_vec(ids_f32.to_vec::<f32>().iter().map(|&x| x as u32).collect(), ids_f32.shape());
    assert_eq!(ids.shape(), [3, 9]);

    let log_probs = model.token_log_probs(&ids);
    let expected = reference["log_probs"].to_vec_f64();
    let got = log_probs.value().to_vec_f64();
    assert_eq!(got.len(), expected.len());
    let worst = got.iter().zip(&expected).map(|(a, e)| (a - e).abs()).fold(0.0, f64::max);
    eprintln!("log-probs max abs error {worst:.2e}");
    assert!(worst <= 1e-4, "log-probs max abs error {worst:e}");

    log_probs.mul(&Var::constant(reference["weights"].clone())).sum_all().backward();
    let params = model.parameters();
    let names = ["model.embed_tokens.weight", "model.layers.0.self_attn.q_proj.weight", "lm_head.weight"];
    for name in names {
        let mut want = reference[&format!("grad.{name}")].clone();
        if name.ends_with("q_proj.weight") {
            want = hf_to_interleaved(&want, config.n_heads);
        }
        let param = params.iter().find(|p| p.name() == Some(name)).unwrap();
        let (got, want) = (param.grad().unwrap().to_vec_f64(), want.to_vec_f64());
        // norm-relative, and element-wise relative with a floor of 1% of the largest entry
        // (as hf_parity.rs: near-zero entries are all f32 rounding)
        let floor = 1e-2 * want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let worst = got.iter().zip(&want).map(|(a, e)| (a - e).abs() / e.abs().max(floor)).fold(0.0, f64::max);
        let diff = got.iter().zip(&want).map(|(a, e)| (a - e).powi(2)).sum::<f64>().sqrt();
        let norm = want.iter().map(|e| e * e).sum::<f64>().sqrt();
        eprintln!("{name}: element-wise {worst:.2e}, norm-relative {:.2e}", diff / norm);
        assert!(diff / norm <= 1e-4, "{name}: gradient norm-relative error {:e}", diff / norm);
        assert!(worst <= 1e-4, "{name}: gradient element-wise relative error {worst:e}");
    }
}
