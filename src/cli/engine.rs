//! The model `generate` and `chat` decode with: the KV-cached inference model on the CPU,
//! or the training model moved to a GPU, decoding with a tensor KV cache there
//! (`llamaforge_model::generate::generate_on_device`).

use llamaforge_engine::Device;
use llamaforge_model::checkpoint::Checkpoint;
use llamaforge_model::generate::{generate, generate_on_device, FinishReason, GenerateOptions, InferenceModel};
use llamaforge_model::Llama;

/// The model generation runs on.
pub enum Engine {
    Cpu(InferenceModel),
    Gpu(Llama),
}

impl Engine {
    /// CPU: the KV-cached inference model; GPU: the training model moved to the device.
    pub fn open(checkpoint: Checkpoint, device: Device) -> anyhow::Result<Engine> {
        Ok(if device == Device::Cpu {
            Engine::Cpu(InferenceModel::from_weights(&checkpoint.config, &checkpoint.weights)?)
        } else {
            let model = checkpoint.into_model()?;
            model.to_device(device)?;
            Engine::Gpu(model)
        })
    }

    /// Sampled ids (a stop token included) and why generation ended.
    pub fn generate(&self, prompt: &[u32], options: &GenerateOptions) -> anyhow::Result<(Vec<u32>, FinishReason)> {
        match self {
            Engine::Cpu(model) => {
                let out = generate(model, &[prompt.to_vec()], options)?.remove(0);
                Ok((out.tokens, out.finish))
            }
            Engine::Gpu(model) => Ok(generate_on_device(model, prompt, options)?),
        }
    }
}
