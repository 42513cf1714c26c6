//! Freezing (no gradient computed or stored for frozen parameters) and the scalar heads
//! (saved and loaded with the checkpoint under HF `LlamaForSequenceClassification`'s
//! `score.weight` name, read at one position per row).

use llamaforge_engine::Tensor;
use llamaforge_model::checkpoint::{load_model, save_native, Checkpoint};
use llamaforge_model::heads::{score_at, values_at_every_position, SCORE_HEAD, VALUE_HEAD};
use llamaforge_model::{preset, Llama};

fn tiny() -> Llama {
    Llama::new_random(&preset("tiny").unwrap(), 5).unwrap()
}

fn ids(b: usize, t: usize) -> Tensor {
    Tensor::from_vec((0..b * t).map(|i| (i * 7 % 60) as u32 + 1).collect::<Vec<u32>>(), &[b, t])
}

fn head_weight(c: usize, seed: f32) -> Tensor {
    Tensor::from_vec((0..c).map(|i| ((i as f32 + seed) * 0.37).sin() * 0.1).collect::<Vec<f32>>(), &[1, c])
}

#[test]
fn frozen_parameters_get_no_gradient_and_are_not_trainable() {
    let model = tiny();
    model.freeze_where(|name| name.starts_with("model.layers.0.") || name == "model.embed_tokens.weight");
    let all = model.parameters().len();
    let trainable = model.trainable_parameters();
    assert_eq!(trainable.len(), all - 10, "embedding + 9 tensors of layer 0 frozen");
    let loss = model.forward(&ids(2, 5)).square().sum_all();
    loss.backward();
    for p in model.parameters() {
        let name = p.name().unwrap().to_string();
        let frozen = name.starts_with("model.layers.0.") || name == "model.embed_tokens.weight";
        assert_eq!(p.grad().is_none(), frozen, "{name}: frozen = {frozen} but grad present = {}", p.grad().is_some());
    }
    // unfreezing restores them
    model.freeze_where(|_| false);
    assert_eq!(model.trainable_parameters().len(), all);
}

#[test]
fn a_frozen_trunk_still_trains_the_head() {
    let mut model = tiny();
    model.set_head(SCORE_HEAD, head_weight(32, 1.0)).unwrap();
    model.freeze_where(|name| name != SCORE_HEAD);
    let hidden = model.hidden_states(&ids(3, 4));
    let scores = score_at(&hidden, model.head(SCORE_HEAD).unwrap(), &[3, 1, 0]);
    assert_eq!(scores.shape(), vec![3]);
    scores.sum_all().backward();
    let trainable = model.trainable_parameters();
    assert_eq!(trainable.len(), 1);
    assert!(trainable[0].grad().is_some());
    assert!(model.embed_tokens.grad().is_none());
}

#[test]
fn the_score_is_read_at_the_given_position_of_each_row() {
    let mut model = tiny();
    model.set_head(VALUE_HEAD, head_weight(32, 2.0)).unwrap();
    let hidden = model.hidden_states(&ids(2, 5));
    let w = model.head(VALUE_HEAD).unwrap();
    let every = values_at_every_position(&hidden, w).value().to_vec::<f32>(); // [2, 5]
    let picked = score_at(&hidden, w, &[4, 2]).value().to_vec::<f32>();
    assert_eq!(picked, vec![every[4], every[5 + 2]]);
}

#[test]
fn heads_are_saved_and_loaded_with_the_checkpoint() {
    let mut model = tiny();
    model.set_head(SCORE_HEAD, head_weight(32, 3.0)).unwrap();
    let dir = std::env::temp_dir().join(format!("llamaforge-heads-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    save_native(&dir, &Checkpoint::from_model(&model), &[], 1, 2).unwrap();
    let (loaded, _) = load_model(&dir).unwrap();
    let loaded = loaded.into_model().unwrap();
    let head = loaded.head(SCORE_HEAD).expect("the head came back");
    assert_eq!(head.value().to_vec::<f32>(), head_weight(32, 3.0).to_vec::<f32>());
    assert!(loaded.head(VALUE_HEAD).is_none());
    // a head of the wrong width is a clear error naming it
    let err = model.set_head(SCORE_HEAD, head_weight(31, 0.0)).unwrap_err().to_string();
    assert!(err.contains("score.weight"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
