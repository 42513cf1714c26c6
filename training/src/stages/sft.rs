//! Supervised fine-tuning (the LLaMA-2 paper, §3.1): dialogues in the LLaMA-2-chat
//! template, packed into full windows, with the loss only on the assistant's tokens (the
//! prompt's targets are ignored — "we zero-out the loss on tokens from the user prompt").
//! A [`Stage`] of the shared trainer; Ghost Attention reuses it with its own masks.

use llamaforge_autograd::{no_grad, Var};
use llamaforge_engine::Tensor;
use llamaforge_model::chat::{encode_chat, Message};
use llamaforge_model::loss::{lm_head_chunk_for, lm_head_loss, IGNORE_INDEX};
use llamaforge_model::tokenizer::{Tokenizer, BOS_ID, EOS_ID};
use llamaforge_model::Llama;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;

use crate::data::{MaskedExample, PackedRows};
use crate::trainer::{MicroLoss, Stage, Validation};

/// The pad id of packed rows (`<unk>`, never EOS: a pad equal to EOS would hide the real
/// EOS the model must learn to stop with). Its targets are ignored either way.
pub const PAD_ID: u32 = 0;

/// Encodes dialogues in the chat template with the assistant mask. Dialogues that fail the
/// template's shape rules are errors naming their index; ones without any answer are
/// skipped (nothing to learn).
pub fn encode_dialogues(dialogues: &[Vec<Message>], tok: &Tokenizer) -> Result<Vec<MaskedExample>, String> {
    let encode = |text: &str| tok.encode(text, false, false);
    let mut out = Vec::with_capacity(dialogues.len());
    for (i, messages) in dialogues.iter().enumerate() {
        let chat = encode_chat(messages, &encode, BOS_ID, EOS_ID).map_err(|e| format!("dialogue {}: {e}", i + 1))?;
        if chat.assistant_mask.iter().any(|&m| m) {
            out.push(MaskedExample { ids: chat.ids, learn: chat.assistant_mask });
        }
    }
    Ok(out)
}

/// Input ids `[B, T]` and targets `[B·T]` (ignored where the next token is not learned)
/// of packed rows `rows` of `packed`. Returns them with the number of learned targets.
pub fn masked_batch(packed: &PackedRows, rows: &[usize]) -> (Tensor, Tensor, usize) {
    let t = packed.seq;
    let mut inputs = Vec::with_capacity(rows.len() * t);
    let mut targets = Vec::with_capacity(rows.len() * t);
    let mut learned = 0;
    for &r in rows {
        let (ids, learn) = packed.row(r);
        inputs.extend_from_slice(&ids[..t]);
        for pos in 1..=t {
            targets.push(if learn[pos] { ids[pos] } else { IGNORE_INDEX });
            learned += usize::from(learn[pos]);
        }
    }
    (Tensor::from_vec(inputs, &[rows.len(), t]), Tensor::from_vec(targets, &[rows.len() * t]), learned)
}

/// Mean cross-entropy over the learned targets of a masked batch.
pub fn masked_loss(model: &Llama, inputs: &Tensor, targets: &Tensor) -> Var {
    let (b, t) = (inputs.shape()[0], inputs.shape()[1]);
    let hidden = model.hidden_states(inputs).reshape(&[b * t, model.config.dim]); // [B·T, C]
    lm_head_loss(&hidden, model.output_weight(), targets, lm_head_chunk_for(model.device()))
}

/// SFT (or GAtt) over packed rows: batch `g = step·accum + micro` takes the next
/// `batch_size` rows of a sequence that visits every row once per epoch, in a seeded
/// order per epoch, so resumed runs see the same batches.
pub struct SftStage {
    pub name: String,
    pub train: PackedRows,
    pub val: Option<PackedRows>,
    pub batch_size: usize,
    pub grad_accum: usize,
    pub seed: u64,
    epoch_orders: Vec<Vec<usize>>,
}

impl SftStage {
    pub fn new(
        name: &str,
        train: PackedRows,
        val: Option<PackedRows>,
        batch_size: usize,
        grad_accum: usize,
        seed: u64,
    ) -> SftStage {
        assert!(train.rows > 0, "SftStage: no training rows");
        SftStage { name: name.to_string(), train, val, batch_size, grad_accum, seed, epoch_orders: Vec::new() }
    }

    /// Optimizer steps that make `epochs` passes over the rows (at least 1).
    pub fn steps_for_epochs(&self, epochs: f64) -> u64 {
        let per_step = (self.batch_size * self.grad_accum) as f64;
        ((self.train.rows as f64 * epochs / per_step).ceil() as u64).max(1)
    }

    /// The packed row at position `k` of the epoch-by-epoch sequence.
    fn row_at(&mut self, k: usize) -> usize {
        let rows = self.train.rows;
        let epoch = k / rows;
        while self.epoch_orders.len() <= epoch {
            let e = self.epoch_orders.len() as u64;
            let mut order: Vec<usize> = (0..rows).collect();
            order.shuffle(&mut StdRng::seed_from_u64(self.seed ^ 0x5f7_0000 ^ e));
            self.epoch_orders.push(order);
        }
        self.epoch_orders[epoch][k % rows]
    }
}

impl Stage for SftStage {
    fn name(&self) -> &str {
        &self.name
    }

    fn micro_batch_loss(&mut self, model: &Llama, step: u64, micro: usize) -> Result<MicroLoss, String> {
        let g = step as usize * self.grad_accum + micro;
        let rows: Vec<usize> = (0..self.batch_size).map(|i| self.row_at(g * self.batch_size + i)).collect();
        let (inputs, targets, learned) = masked_batch(&self.train, &rows);
        if learned == 0 {
            return Err(format!("{}: batch {g} has no answer tokens to learn", self.name));
        }
        Ok(MicroLoss {
            loss: masked_loss(model, &inputs, &targets),
            tokens: inputs.numel(),
            metrics: vec![("answer_tokens".to_string(), learned as f64)],
        })
    }

    fn validate(&mut self, model: &Llama) -> Result<Option<Validation>, String> {
        let Some(val) = &self.val else { return Ok(None) };
        let (mut total, mut count) = (0.0, 0usize);
        no_grad(|| {
            let all: Vec<usize> = (0..val.rows).collect();
            for rows in all.chunks(self.batch_size) {
                let (inputs, targets, learned) = masked_batch(val, rows);
                if learned > 0 {
                    total += masked_loss(model, &inputs, &targets).value().to_scalar() * learned as f64;
                    count += learned;
                }
            }
        });
        Ok((count > 0).then(|| Validation { loss: total / count as f64, metrics: Vec::new() }))
    }
}
