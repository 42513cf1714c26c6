//! Generation on a GPU for `generate` and `chat --device gpu`. There is no KV-cached GPU
//! inference path yet: each new token re-runs the training model's forward
//! (`Llama::hidden_states` under `no_grad`) over the whole sequence so far on the device,
//! then applies the LM head to the last position only and samples on the host with the
//! same `Sampler` as the CPU path. Cost per token grows with the sequence (O(T²) in
//! total); the CPU path's KV cache is faster for small models.

use llamaforge_autograd::no_grad;
use llamaforge_engine::Tensor;
use llamaforge_model::generate::{FinishReason, GenerateOptions, Sampler};
use llamaforge_model::Llama;

/// Continues `prompt` (at least one token) with `model` wherever its parameters live.
/// Returns the sampled ids (a stop token included) and why generation ended.
pub fn generate_full_forward(model: &Llama, prompt: &[u32], options: &GenerateOptions) -> (Vec<u32>, FinishReason) {
    assert!(!prompt.is_empty(), "generate: the prompt needs at least one token (BOS)");
    let max_len = model.config.max_seq_len;
    let mut sampler = Sampler::new(options.sampling, options.seed);
    let mut seq = prompt.to_vec();
    let mut out = Vec::new();
    let head = model.output_weight().value().transpose(0, 1); // [C, V]
    no_grad(|| loop {
        if out.len() >= options.max_new_tokens {
            return (out, FinishReason::Length);
        }
        let fed = seq.len().min(max_len);
        let ids = Tensor::from_vec(seq[seq.len() - fed..].to_vec(), &[1, fed]);
        let hidden = model.hidden_states(&ids).value(); // [1, T, C]
        let last = hidden.narrow(1, fed - 1, 1).reshape(&[1, model.config.dim]); // [1, C]
        let logits = last.matmul(&head).to_vec::<f32>(); // [V]: the one read per token
        let token = sampler.sample(&logits);
        out.push(token);
        seq.push(token);
        if options.stop_tokens.contains(&token) {
            return (out, FinishReason::Stop);
        }
        if fed >= max_len {
            return (out, FinishReason::Context);
        }
    })
}
