//! What a training stage supplies to the one loop: the loss of each micro-batch and,
//! optionally, a validation pass. Everything else (optimizer, schedule, clipping,
//! accumulation, metrics, checkpoints, resume, Ctrl-C, the NaN guard) is the trainer's.

use llamaforge_autograd::Var;
use llamaforge_model::Llama;

/// The loss of one micro-batch, and what the stage wants logged about it.
pub struct MicroLoss {
    /// Rank-0 loss to backpropagate (the trainer scales it by `1 / grad_accum`).
    pub loss: Var,
    /// Tokens the micro-batch fed through the model (for tokens/s).
    pub tokens: usize,
    /// Stage-specific numbers (averaged over the step's micro-batches into metrics.jsonl
    /// and the progress bar), e.g. SFT's `answer_tokens` or a reward model's `accuracy`.
    pub metrics: Vec<(String, f64)>,
}

/// A validation result: the loss and any stage-specific numbers.
pub struct Validation {
    pub loss: f64,
    pub metrics: Vec<(String, f64)>,
}

/// One stage of training: supplies batches and a loss.
pub trait Stage {
    /// Short name for logs (`pretrain`, `sft`, `gatt`…).
    fn name(&self) -> &str;

    /// The loss of micro-batch `micro` of 0-based optimizer step `step`. Must depend only
    /// on `(step, micro)` and the model, so a resumed run sees the same batches.
    fn micro_batch_loss(&mut self, model: &Llama, step: u64, micro: usize) -> Result<MicroLoss, String>;

    /// Validation on held-out data without gradients (`None`: the stage has none).
    fn validate(&mut self, _model: &Llama) -> Result<Option<Validation>, String> {
        Ok(None)
    }
}
