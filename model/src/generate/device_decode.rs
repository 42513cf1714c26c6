//! KV-cached generation with the training model's layers on engine tensors, so it runs
//! wherever the model's parameters live (a GPU included). A prompt goes through in one
//! batched pass; then each new token is one position attending to the cache
//! ([`Llama::hidden_states_cached`]), the LM head is applied to that position only, and
//! sampling happens on the host with the same [`Sampler`] (and seed) as the CPU fast
//! path, so both pick the same tokens up to floating-point ties and return the same
//! log-probs up to f32 rounding.
//!
//! Batching: prompts of equal length decode together, as one `[G, 1]` step per token over
//! one `[G, T, KV, D]` cache, so a step costs one logits read-back for the whole group;
//! groups of different lengths run one after another. Equal lengths share every
//! position, so no padding, position ids or attention mask is needed (left padding is
//! where other RLHF stacks get position ids wrong). A row that has stopped rides along
//! until its group ends, its outputs discarded: dropping it would copy every layer's
//! cache (whether that pays for long groups with early stops is not measured). Prompts of
//! all-different lengths thus decode one after another, one read-back per token each.

use std::collections::BTreeMap;

use llamaforge_autograd::no_grad;
use llamaforge_engine::Tensor;

use super::generation::{FinishReason, GenerateOptions, Generation};
use super::sampler::{log_prob, Sampler};
use crate::error::{ModelError, Result};
use crate::layers::KvTensors;
use crate::llama::Llama;

/// Continues each prompt (at least one token each, lengths may differ) with `model` on its
/// device: the tokens (a stop token included), their log-probs at temperature 1 and why
/// each ended — the CPU [`super::generate`]'s semantics and seeds (sequence i samples
/// with `options.seed + i`). Every prompt is checked before any decoding starts.
pub fn generate_batch_on_device(
    model: &Llama,
    prompts: &[Vec<u32>],
    options: &GenerateOptions,
) -> Result<Vec<Generation>> {
    for (i, prompt) in prompts.iter().enumerate() {
        check_prompt(model, i, prompt)?;
    }
    let mut by_length: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, prompt) in prompts.iter().enumerate() {
        by_length.entry(prompt.len()).or_default().push(i);
    }
    let mut out: Vec<Option<Generation>> = vec![None; prompts.len()];
    for rows in by_length.values() {
        let group: Vec<&[u32]> = rows.iter().map(|&i| prompts[i].as_slice()).collect();
        let seeds: Vec<u64> = rows.iter().map(|&i| options.seed.wrapping_add(i as u64)).collect();
        for (&i, generation) in rows.iter().zip(decode_group(model, &group, &seeds, options)) {
            out[i] = Some(generation);
        }
    }
    Ok(out.into_iter().map(|g| g.expect("every prompt is in one group")).collect())
}

/// One prompt: [`generate_batch_on_device`] of `[prompt]`, as (tokens, finish).
pub fn generate_on_device(
    model: &Llama,
    prompt: &[u32],
    options: &GenerateOptions,
) -> Result<(Vec<u32>, FinishReason)> {
    let generation = generate_batch_on_device(model, &[prompt.to_vec()], options)?.remove(0);
    Ok((generation.tokens, generation.finish))
}

fn check_prompt(model: &Llama, i: usize, prompt: &[u32]) -> Result<()> {
    let (max_len, vocab) = (model.config.max_seq_len, model.config.vocab_size);
    if prompt.is_empty() {
        return Err(ModelError::config("prompt", format!("prompt {i} is empty; start it with BOS")));
    }
    if prompt.len() > max_len {
        return Err(ModelError::config(
            "prompt",
            format!("prompt {i}: {} tokens exceed max_seq_len {max_len}", prompt.len()),
        ));
    }
    if let Some(&bad) = prompt.iter().find(|&&id| id as usize >= vocab) {
        return Err(ModelError::config("prompt", format!("prompt {i}: token id {bad} ≥ vocab size {vocab}")));
    }
    Ok(())
}

/// Decodes `prompts` (checked, all of one length P) in lock step, row r sampling with
/// `seeds[r]`. Returns one generation per row.
fn decode_group(model: &Llama, prompts: &[&[u32]], seeds: &[u64], options: &GenerateOptions) -> Vec<Generation> {
    let (g, max_len, dim, vocab) = (prompts.len(), model.config.max_seq_len, model.config.dim, model.config.vocab_size);
    let mut samplers: Vec<Sampler> = seeds.iter().map(|&seed| Sampler::new(options.sampling, seed)).collect();
    let mut out: Vec<Generation> = (0..g)
        .map(|_| Generation { tokens: Vec::new(), log_probs: Vec::new(), finish: FinishReason::Length })
        .collect();
    let mut running = vec![true; g];
    let mut cache = KvTensors::new(model.config.n_layers);
    let head = model.output_weight().value().transpose(0, 1); // [C, V]
    let mut input: Vec<u32> = prompts.concat(); // [G, T] row-major: the prompts, then one token per row
    no_grad(|| {
        for step in 0.. {
            let t = input.len() / g;
            let finish = if step == options.max_new_tokens {
                Some(FinishReason::Length)
            } else if cache.len() + t > max_len {
                Some(FinishReason::Context)
            } else {
                None
            };
            if let Some(finish) = finish {
                for (generation, _) in out.iter_mut().zip(&running).filter(|(_, running)| **running) {
                    generation.finish = finish;
                }
                return;
            }
            let ids = Tensor::from_vec(std::mem::take(&mut input), &[g, t]);
            let hidden = model.hidden_states_cached(&ids, &mut cache).value(); // [G, T, C]
            let last = hidden.narrow(1, t - 1, 1).reshape(&[g, dim]); // [G, C]
            let logits = last.matmul(&head).to_vec::<f32>(); // [G, V]: the one read per step
            for (row, logits) in logits.chunks_exact(vocab).enumerate() {
                let token = if running[row] {
                    let token = samplers[row].sample(logits);
                    out[row].tokens.push(token);
                    out[row].log_probs.push(log_prob(logits, token));
                    if options.stop_tokens.contains(&token) {
                        out[row].finish = FinishReason::Stop;
                        running[row] = false;
                    }
                    token
                } else {
                    *out[row].tokens.last().expect("a stopped row sampled its stop token")
                };
                input.push(token);
            }
            if !running.contains(&true) {
                return;
            }
        }
    });
    out
}
