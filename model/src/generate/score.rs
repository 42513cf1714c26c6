//! Scoring: per-token log-probs of given continuations (PPO's old/reference policy
//! log-probs, the reward model's inputs, evaluation).

use rayon::prelude::*;

use super::inference::InferenceModel;
use super::sampler::log_prob;
use super::team::{with_team, Team};
use crate::error::{ModelError, Result};

/// For each pair, `log p(continuation[j] | prompt, continuation[..j])` for every j.
/// Prompts must be non-empty; pairs of different lengths run independently in parallel.
pub fn score(model: &InferenceModel, prompts: &[Vec<u32>], continuations: &[Vec<u32>]) -> Result<Vec<Vec<f32>>> {
    if prompts.len() != continuations.len() {
        return Err(ModelError::config(
            "continuations",
            format!("{} prompts but {} continuations", prompts.len(), continuations.len()),
        ));
    }
    if let ([p], [c]) = (prompts, continuations) {
        return with_team(|team| Ok(vec![score_one(model, p, c, team)?]));
    }
    prompts.par_iter().zip(continuations).map(|(p, c)| score_one(model, p, c, None)).collect()
}

fn score_one(model: &InferenceModel, prompt: &[u32], continuation: &[u32], team: Option<&Team>) -> Result<Vec<f32>> {
    if prompt.is_empty() {
        return Err(ModelError::config("prompt", "is empty; start it with BOS"));
    }
    let mut state = model.new_state();
    for &token in &prompt[..prompt.len() - 1] {
        model.step_on(&mut state, token, team)?;
    }
    let mut input = prompt[prompt.len() - 1];
    let mut out = Vec::with_capacity(continuation.len());
    for &token in continuation {
        let logits = model.step_on(&mut state, input, team)?;
        if token as usize >= logits.len() {
            return Err(ModelError::config("continuation", format!("token id {token} ≥ vocab size {}", logits.len())));
        }
        out.push(log_prob(logits, token));
        input = token;
    }
    Ok(out)
}
