//! Batched autoregressive generation over the KV-cached inference path.

use rayon::prelude::*;

use super::inference::InferenceModel;
use super::sampler::{log_prob, Sampler, Sampling};
use super::team::{with_team, Team};
use crate::error::{ModelError, Result};

/// What to generate.
#[derive(Clone, Debug)]
pub struct GenerateOptions {
    /// Most tokens to add per prompt (also bounded by `max_seq_len`).
    pub max_new_tokens: usize,
    pub sampling: Sampling,
    /// Sequence `i` of a batch samples with seed `seed + i`, so results do not depend on
    /// the batch around it or on threading.
    pub seed: u64,
    /// Generation of a sequence ends after it samples one of these (EOS; llama2.c also
    /// stops at BOS).
    pub stop_tokens: Vec<u32>,
}

/// Why a sequence ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FinishReason {
    /// It sampled a stop token (which is the last entry of `tokens`).
    Stop,
    /// It reached `max_new_tokens`.
    Length,
    /// It filled the model's context: `max_seq_len` positions were fed (the last sampled
    /// token, which is never fed back, is still returned — as llama2.c prints it).
    Context,
}

/// One generated continuation.
#[derive(Clone, Debug, PartialEq)]
pub struct Generation {
    /// The sampled ids, a stop token included.
    pub tokens: Vec<u32>,
    /// `log p(token | everything before)` of each sampled token under the model itself
    /// (softmax at temperature 1, before top-p truncation), what PPO's ratio needs; it
    /// equals [`super::score`] of the same tokens.
    pub log_probs: Vec<f32>,
    pub finish: FinishReason,
}

/// Continues each prompt (lengths may differ; each must hold at least one token, e.g.
/// BOS). Sequences run independently, in parallel, each with its own KV cache.
pub fn generate(model: &InferenceModel, prompts: &[Vec<u32>], options: &GenerateOptions) -> Result<Vec<Generation>> {
    if let [prompt] = prompts {
        // one sequence: every core works on each token
        return with_team(|team| Ok(vec![generate_one(model, prompt, options, options.seed, team)?]));
    }
    // several: one sequence per core, each on its own thread
    prompts
        .par_iter()
        .enumerate()
        .map(|(i, prompt)| generate_one(model, prompt, options, options.seed.wrapping_add(i as u64), None))
        .collect()
}

fn generate_one(
    model: &InferenceModel,
    prompt: &[u32],
    options: &GenerateOptions,
    seed: u64,
    team: Option<&Team>,
) -> Result<Generation> {
    let max_seq_len = model.config.max_seq_len;
    if prompt.is_empty() {
        return Err(ModelError::config("prompt", "is empty; start it with BOS"));
    }
    if prompt.len() > max_seq_len {
        return Err(ModelError::config("prompt", format!("{} tokens exceed max_seq_len {max_seq_len}", prompt.len())));
    }
    let mut state = model.new_state();
    let mut sampler = Sampler::new(options.sampling, seed);
    for &token in &prompt[..prompt.len() - 1] {
        model.step_on(&mut state, token, team)?;
    }
    let mut next_input = prompt[prompt.len() - 1];
    let (mut tokens, mut log_probs) = (Vec::new(), Vec::new());
    let finish = loop {
        if tokens.len() == options.max_new_tokens {
            break FinishReason::Length;
        }
        if state.cache.len() == max_seq_len {
            break FinishReason::Context;
        }
        let logits = model.step_on(&mut state, next_input, team)?;
        let token = sampler.sample(logits);
        tokens.push(token);
        log_probs.push(log_prob(logits, token));
        if options.stop_tokens.contains(&token) {
            break FinishReason::Stop;
        }
        next_input = token;
    };
    Ok(Generation { tokens, log_probs, finish })
}
