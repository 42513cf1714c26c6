//! Parity with Hugging Face `LlamaForCausalLM` (fixtures from tests/reference/hf_llama_parity.py):
//! logits, loss and every parameter gradient of a tiny GQA model with untied embeddings.

use std::path::PathBuf;

use llamaforge_engine::Tensor;
use llamaforge_model::checkpoint::rope_layout::hf_to_interleaved;
use llamaforge_model::checkpoint::safetensors_io::read_f32_tensors;
use llamaforge_model::checkpoint::{load_hf_dir, parse_hf_config, read_hf_config};
use llamaforge_model::loss::{next_token_loss, next_token_targets};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures")
}

fn input_ids() -> Vec<Vec<u32>> {
    let bytes = std::fs::read(fixtures().join("hf_tiny_llama_io.safetensors")).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let view = st.tensor("input_ids").unwrap();
    assert_eq!(view.dtype(), safetensors::Dtype::I64);
    let (b, t) = (view.shape()[0], view.shape()[1]);
    let ids: Vec<u32> = view.data().chunks_exact(8).map(|c| i64::from_le_bytes(c.try_into().unwrap()) as u32).collect();
    (0..b).map(|r| ids[r * t..(r + 1) * t].to_vec()).collect()
}

fn max_abs_diff(a: &Tensor, b: &Tensor) -> f64 {
    assert_eq!(a.shape(), b.shape());
    a.to_vec_f64().iter().zip(b.to_vec_f64()).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

#[test]
fn hf_tiny_llama_logits_loss_and_gradients_match() {
    let checkpoint = load_hf_dir(&fixtures().join("hf_tiny_llama")).unwrap();
    let config = checkpoint.config.clone();
    assert_eq!((config.n_heads, config.n_kv_heads, config.tied_embeddings), (4, 2, false));
    let model = checkpoint.into_model().unwrap();
    let reference = read_f32_tensors(&fixtures().join("hf_tiny_llama_io.safetensors")).unwrap();

    let ids = input_ids();
    let (b, t) = (ids.len(), ids[0].len());
    let flat: Vec<u32> = ids.concat();
    let logits = model.forward(&Tensor::from_vec(flat, &[b, t]));
    let loss = next_token_loss(&logits, &next_token_targets(&ids, None));
    loss.backward();

    let logits_err = max_abs_diff(&logits.value(), &reference["logits"]);
    // a missing q/k row permutation moves these small logits by ~1.3e-3, so hold f32 to 1e-5
    assert!(logits_err <= 1e-5, "logits max abs error {logits_err:e}");
    let loss_err = (loss.value().to_scalar() - reference["loss"].to_scalar()).abs();
    assert!(loss_err <= 1e-5, "loss error {loss_err:e}");

    // gradients: norm-relative error ‖a − b‖₂ / ‖b‖₂ ≤ 1e-4, and element-wise
    // |a − b| / max(|b|, 1e-2 · max|b|) ≤ 1e-4 (the floor keeps near-zero entries, where
    // f32 rounding dominates, from deciding the test)
    for param in model.parameters() {
        let name = param.name().unwrap().to_string();
        let mut expected = reference[&format!("grad.{name}")].clone();
        if name.ends_with("q_proj.weight") {
            expected = hf_to_interleaved(&expected, config.n_heads);
        } else if name.ends_with("k_proj.weight") {
            expected = hf_to_interleaved(&expected, config.n_kv_heads);
        }
        let got = param.grad().unwrap_or_else(|| panic!("{name}: no gradient"));
        let (got, expected) = (got.to_vec_f64(), expected.to_vec_f64());
        let scale = expected.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let floor = 1e-2 * scale;
        let worst = got.iter().zip(&expected).map(|(a, e)| (a - e).abs() / e.abs().max(floor)).fold(0.0, f64::max);
        let diff_norm = got.iter().zip(&expected).map(|(a, e)| (a - e).powi(2)).sum::<f64>().sqrt();
        let norm = expected.iter().map(|e| e * e).sum::<f64>().sqrt();
        eprintln!("{name}: element-wise {worst:.2e}, norm-relative {:.2e}", diff_norm / norm);
        assert!(diff_norm / norm <= 1e-4, "{name}: gradient norm-relative error {:e}", diff_norm / norm);
        assert!(worst <= 1e-4, "{name}: gradient element-wise relative error {worst:e}");
    }
}

#[test]
fn both_hf_config_layouts_parse_to_the_same_config() {
    let dir = fixtures().join("hf_config_variants");
    let old = std::fs::read_to_string(dir.join("config_old.json")).unwrap();
    let new = std::fs::read_to_string(dir.join("config_new.json")).unwrap();
    let old = parse_hf_config(&dir.join("config_old.json"), &old).unwrap();
    let new = parse_hf_config(&dir.join("config_new.json"), &new).unwrap();
    assert_eq!(old, new);
    assert_eq!((old.rope_theta, old.n_kv_heads, old.dim), (10000.0, 2, 32));
    assert_eq!(read_hf_config(&fixtures().join("hf_tiny_llama")).unwrap(), new);
}
