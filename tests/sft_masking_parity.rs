//! SFT's answer-only loss against Hugging Face's `labels = -100` convention (fixture from
//! tests/reference/sft_masking.py): packed rows of `T + 1` tokens with prompts, answers and
//! padding go through `masked_batch` + `masked_loss`, and the loss and every parameter
//! gradient match `LlamaForCausalLM(input_ids, labels=labels)`. With an all-ones mask the
//! same path gives HF's unmasked loss and the plain next-token loss.

use std::collections::BTreeMap;
use std::path::PathBuf;

use llamaforge_autograd::no_grad;
use llamaforge_engine::Tensor;
use llamaforge_model::checkpoint::load_hf_dir;
use llamaforge_model::checkpoint::rope_layout::hf_to_interleaved;
use llamaforge_model::checkpoint::safetensors_io::read_f32_tensors;
use llamaforge_model::loss::{next_token_loss, next_token_targets, IGNORE_INDEX};
use llamaforge_model::Llama;
use llamaforge_training::data::PackedRows;
use llamaforge_training::stages::{masked_batch, masked_loss};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn reference() -> BTreeMap<String, Tensor> {
    read_f32_tensors(&fixtures().join("hf_sft_masking.safetensors")).unwrap()
}

fn model() -> Llama {
    load_hf_dir(&fixtures().join("hf_tiny_llama")).unwrap().into_model().unwrap()
}

/// The fixture's rows `[B, T + 1]` as `PackedRows` with `learn` from the fixture, or all
/// true when `all_learned`. (Ids and the 0/1 mask are stored as i64 and read back as exact
/// f32 values.)
fn packed_rows(reference: &BTreeMap<String, Tensor>, all_learned: bool) -> PackedRows {
    let ids = &reference["input_ids"];
    let (rows, width) = (ids.shape()[0], ids.shape()[1]);
    let ids: Vec<u32> = ids.to_vec_f64().iter().map(|&v| v as u32).collect();
    let learn: Vec<bool> = if all_learned {
        vec![true; ids.len()]
    } else {
        reference["learn"].to_vec_f64().iter().map(|&v| v == 1.0).collect()
    };
    // the first token of a row is never a target, as pack_examples counts it
    let learned_tokens = (0..rows).map(|r| learn[r * width + 1..(r + 1) * width].iter().filter(|&&l| l).count()).sum();
    PackedRows { rows, seq: width - 1, ids, learn, truncated: 0, learned_tokens }
}

/// Relative gradient errors `(element-wise, norm-relative)`: element-wise is
/// `|a − b| / max(|b|, 1e-2 · max|b|)` (the floor keeps near-zero entries, where f32
/// rounding dominates, from deciding), norm-relative is `‖a − b‖₂ / ‖b‖₂`.
fn grad_errors(got: &Tensor, expected: &Tensor) -> (f64, f64) {
    assert_eq!(got.shape(), expected.shape());
    let (got, expected) = (got.to_vec_f64(), expected.to_vec_f64());
    let floor = 1e-2 * expected.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let worst = got.iter().zip(&expected).map(|(a, e)| (a - e).abs() / e.abs().max(floor)).fold(0.0, f64::max);
    let diff = got.iter().zip(&expected).map(|(a, e)| (a - e).powi(2)).sum::<f64>().sqrt();
    let norm = expected.iter().map(|e| e * e).sum::<f64>().sqrt();
    (worst, diff / norm)
}

#[test]
fn masked_sft_loss_and_gradients_match_hf_labels() {
    let reference = reference();
    let model = model();
    let config = model.config.clone();
    let packed = packed_rows(&reference, false);
    let rows: Vec<usize> = (0..packed.rows).collect();
    let (inputs, targets, learned) = masked_batch(&packed, &rows);
    assert_eq!(inputs.shape(), &[3, 16]);

    // the targets are HF's shifted labels: labels[:, 1:], with -100 as IGNORE_INDEX
    let labels = &reference["labels"];
    let width = labels.shape()[1];
    let hf_targets: Vec<u32> = labels
        .to_vec_f64()
        .chunks(width)
        .flat_map(|row| row[1..].iter().map(|&v| if v == -100.0 { IGNORE_INDEX } else { v as u32 }).collect::<Vec<_>>())
        .collect();
    assert_eq!(targets.to_vec::<u32>(), hf_targets);
    assert_eq!(learned, 22);
    assert_eq!(learned, packed.learned_tokens);

    let loss = masked_loss(&model, &inputs, &targets);
    loss.backward();
    let (got, expected) = (loss.value().to_scalar(), reference["loss"].to_scalar());
    assert!((got - expected).abs() <= 1e-5, "masked loss {got} vs HF {expected}");

    let mut compared = 0;
    for param in model.parameters() {
        let name = param.name().unwrap().to_string();
        let mut expected = reference[&format!("grad.{name}")].clone();
        if name.ends_with("q_proj.weight") {
            expected = hf_to_interleaved(&expected, config.n_heads);
        } else if name.ends_with("k_proj.weight") {
            expected = hf_to_interleaved(&expected, config.n_kv_heads);
        }
        let got = param.grad().unwrap_or_else(|| panic!("{name}: no gradient"));
        let (worst, norm_rel) = grad_errors(&got, &expected);
        eprintln!("{name}: element-wise {worst:.2e}, norm-relative {norm_rel:.2e}");
        assert!(norm_rel <= 1e-4, "{name}: gradient norm-relative error {norm_rel:e}");
        assert!(worst <= 1e-4, "{name}: gradient element-wise relative error {worst:e}");
        compared += 1;
    }
    // embed, 2 layers × (4 attention + 3 MLP + 2 norms), final norm, lm_head
    assert_eq!(compared, 21);
}

#[test]
fn an_all_ones_mask_gives_the_unmasked_loss() {
    let reference = reference();
    let model = model();
    let packed = packed_rows(&reference, true);
    let rows: Vec<usize> = (0..packed.rows).collect();
    let (inputs, targets, learned) = masked_batch(&packed, &rows);
    assert_eq!(learned, 3 * 16);
    let (masked, plain) = no_grad(|| {
        let masked = masked_loss(&model, &inputs, &targets).value().to_scalar();
        let ids: Vec<Vec<u32>> = (0..packed.rows).map(|r| packed.row(r).0.to_vec()).collect();
        let width = packed.seq + 1;
        let logits = model.forward(&Tensor::from_vec(ids.concat(), &[packed.rows, width]));
        (masked, next_token_loss(&logits, &next_token_targets(&ids, None)).value().to_scalar())
    });
    let hf = reference["loss_unmasked"].to_scalar();
    assert!((masked - hf).abs() <= 1e-5, "all-ones masked loss {masked} vs HF unmasked {hf}");
    assert!((masked - plain).abs() <= 1e-5, "all-ones masked loss {masked} vs next-token loss {plain}");
    // and the real mask is not a no-op on this batch
    assert!((hf - reference["loss"].to_scalar()).abs() > 1e-2);
}
