//! KV-cached generation with the training model's layers on engine tensors, so it runs
//! wherever the model's parameters live (a GPU included). The prompt goes through in one
//! batched pass; then each new token is one position attending to the cache
//! ([`Llama::hidden_states_cached`]), the LM head is applied to that position only, and
//! sampling happens on the host with the same [`Sampler`] (and seed) as the CPU fast
//! path, so both pick the same tokens up to floating-point ties.

use llamaforge_autograd::no_grad;
use llamaforge_engine::Tensor;

use super::generation::{FinishReason, GenerateOptions};
use super::sampler::Sampler;
use crate::error::{ModelError, Result};
use crate::layers::KvTensors;
use crate::llama::Llama;

/// Continues `prompt` (at least one token) with `model` on its device. Returns the sampled
/// ids (a stop token included) and why generation ended, with the CPU path's semantics.
pub fn generate_on_device(
    model: &Llama,
    prompt: &[u32],
    options: &GenerateOptions,
) -> Result<(Vec<u32>, FinishReason)> {
    let (max_len, dim) = (model.config.max_seq_len, model.config.dim);
    if prompt.is_empty() {
        return Err(ModelError::config("prompt", "is empty; start it with BOS"));
    }
    if prompt.len() > max_len {
        return Err(ModelError::config("prompt", format!("{} tokens exceed max_seq_len {max_len}", prompt.len())));
    }
    if let Some(&bad) = prompt.iter().find(|&&id| id as usize >= model.config.vocab_size) {
        return Err(ModelError::config("prompt", format!("token id {bad} ≥ vocab size {}", model.config.vocab_size)));
    }
    let mut sampler = Sampler::new(options.sampling, options.seed);
    let mut cache = KvTensors::new(model.config.n_layers);
    let head = model.output_weight().value().transpose(0, 1); // [C, V]
    let mut input = prompt.to_vec();
    let mut out = Vec::new();
    Ok(no_grad(|| loop {
        if out.len() >= options.max_new_tokens {
            return (out, FinishReason::Length);
        }
        if cache.len() + input.len() > max_len {
            return (out, FinishReason::Context);
        }
        let t = input.len();
        let ids = Tensor::from_vec(std::mem::take(&mut input), &[1, t]);
        let hidden = model.hidden_states_cached(&ids, &mut cache).value(); // [1, T, C]
        let last = hidden.narrow(1, t - 1, 1).reshape(&[1, dim]); // [1, C]
        let logits = last.matmul(&head).to_vec::<f32>(); // [V]: the one read per token
        let token = sampler.sample(&logits);
        out.push(token);
        if options.stop_tokens.contains(&token) {
            return (out, FinishReason::Stop);
        }
        input.push(token);
    }))
}
