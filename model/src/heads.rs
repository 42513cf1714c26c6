//! Scalar heads on the trunk's final hidden states, saved with the checkpoint under their
//! own names:
//!
//! - `score.weight` `[1, C]`: the reward model's head, in the layout of HF
//!   `LlamaForSequenceClassification` (num_labels 1, no bias), read at one position per
//!   row — the last non-pad token of the answer.
//! - `value_head.weight` `[1, C]`: PPO's value function, read at every position.
//!
//! A model with a head still carries its LM head (or tied embedding): the reward model's
//! trunk stays loadable as a language model, and `convert` ignores the heads.

use llamaforge_autograd::Var;
use llamaforge_engine::Tensor;

/// HF `LlamaForSequenceClassification`'s head: the reward model's score.
pub const SCORE_HEAD: &str = "score.weight";
/// PPO's value function.
pub const VALUE_HEAD: &str = "value_head.weight";
/// Every head name a checkpoint may carry beside the LLaMA weights.
pub const HEAD_NAMES: [&str; 2] = [SCORE_HEAD, VALUE_HEAD];

/// Whether `name` is one of [`HEAD_NAMES`].
pub fn is_head(name: &str) -> bool {
    HEAD_NAMES.contains(&name)
}

/// One scalar per row: `hidden` `[B, T, C]` read at `positions[b]` of row b, times the
/// head `weight` `[1, C]` → `[B]`. The gather is an `index_select` over the flattened
/// `[B·T, C]` rows, so only the read positions get a gradient.
#[track_caller]
pub fn score_at(hidden: &Var, weight: &Var, positions: &[usize]) -> Var {
    let s = hidden.shape();
    let (b, t, c) = (s[0], s[1], s[2]);
    assert_eq!(positions.len(), b, "score_at: {} positions for a batch of {b}", positions.len());
    let rows: Vec<u32> = positions
        .iter()
        .enumerate()
        .map(|(row, &p)| {
            assert!(p < t, "score_at: position {p} of row {row} is outside T = {t}");
            (row * t + p) as u32
        })
        .collect();
    let picked = hidden.reshape(&[b * t, c]).index_select(&Tensor::from_vec(rows, &[b])); // [B, C]
    crate::layers::linear(&picked, weight).reshape(&[b]) // [B]
}

/// One scalar per position: `hidden` `[B, T, C]` times `weight` `[1, C]` → `[B, T]`.
pub fn values_at_every_position(hidden: &Var, weight: &Var) -> Var {
    let s = hidden.shape();
    crate::layers::linear(hidden, weight).reshape(&[s[0], s[1]])
}
