//! Running a fine-tuning stage on packed, masked examples (SFT and Ghost Attention): the
//! config with the paper's values beside the tiny-model defaults, and the run itself on
//! the shared trainer.

use std::path::PathBuf;

use llamaforge_engine::{select_device, DeviceSpec};
use llamaforge_model::tokenizer::{BOS_ID, EOS_ID};
use llamaforge_model::Llama;
use serde::{Deserialize, Serialize};

use super::sft::{SftStage, PAD_ID};
use crate::data::{pack_examples, MaskedExample};
use crate::optim::AdamWConfig;
use crate::trainer::{open_session, train, CheckpointSpec, RunOptions, Session, TrainSummary, TrainerConfig};

/// A fine-tuning run. Defaults are scaled for the 260K model on two cores; the LLaMA-2
/// paper's SFT values are: lr 2e-5, cosine schedule, weight decay 0.1, batch 64, sequence
/// 4096, 2 epochs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FinetuneConfig {
    /// Run directory: run_config.json, metrics.jsonl, checkpoint/, eval.json.
    pub out: PathBuf,
    /// Positions per packed row (the paper: 4096; at most the model's context).
    pub seq_len: usize,
    /// Rows per micro-batch (the paper: 64 sequences).
    pub batch_size: usize,
    pub grad_accum: usize,
    /// Passes over the training rows (the paper: 2); `steps` overrides it when non-zero.
    pub epochs: f64,
    pub steps: u64,
    /// Peak learning rate (the paper: 2e-5 for a 7B–70B model; a 260K model needs more).
    pub peak_lr: f64,
    pub warmup_steps: u64,
    pub final_lr_fraction: f64,
    pub adamw: AdamWConfig,
    pub grad_clip: f64,
    pub val_every: u64,
    pub checkpoint_every: u64,
    pub seed: u64,
    /// `cpu`, `gpu`, `gpu:N` or `auto`.
    pub device: String,
}

impl Default for FinetuneConfig {
    fn default() -> Self {
        FinetuneConfig {
            out: PathBuf::from("runs/sft"),
            seq_len: 512,
            batch_size: 8,
            grad_accum: 1,
            epochs: 2.0,
            steps: 0,
            peak_lr: 2e-3,
            warmup_steps: 10,
            final_lr_fraction: 0.1,
            adamw: AdamWConfig::default(),
            grad_clip: 1.0,
            val_every: 50,
            checkpoint_every: 100,
            seed: 1337,
            device: "cpu".into(),
        }
    }
}

impl FinetuneConfig {
    /// Checks the knobs that would otherwise fail deep inside the loop.
    pub fn validate(&self) -> Result<(), String> {
        for (name, value) in [
            ("seq_len", self.seq_len as u64),
            ("batch_size", self.batch_size as u64),
            ("grad_accum", self.grad_accum as u64),
            ("val_every", self.val_every),
            ("checkpoint_every", self.checkpoint_every),
        ] {
            if value == 0 {
                return Err(format!("config field `{name}` must be at least 1"));
            }
        }
        if !(self.peak_lr > 0.0 && self.peak_lr.is_finite()) {
            return Err(format!("config field `peak_lr` must be a positive number, got {}", self.peak_lr));
        }
        if self.steps == 0 && !(self.epochs > 0.0 && self.epochs.is_finite()) {
            return Err(format!("config field `epochs` must be positive when `steps` is 0, got {}", self.epochs));
        }
        self.device.parse::<DeviceSpec>().map_err(|e| format!("config field `device`: {e}"))?;
        Ok(())
    }
}

/// What a fine-tuning run did.
pub struct FinetuneOutcome {
    pub summary: TrainSummary,
    /// The trained model (on the run's device).
    pub model: Llama,
    pub train_rows: usize,
    pub learned_tokens: usize,
    pub truncated: usize,
}

/// Fine-tunes `base()` (or resumes `config.out`) on `train` examples, validating on
/// `val`. `stage_name` labels logs and the progress bar.
#[allow(clippy::too_many_arguments)]
pub fn finetune(
    stage_name: &str,
    config: &FinetuneConfig,
    base: impl FnOnce() -> Result<Llama, String>,
    tokenizer_bin: &[u8],
    train_examples: &[MaskedExample],
    val_examples: &[MaskedExample],
    options: &RunOptions,
    log: &dyn Fn(&str),
) -> Result<FinetuneOutcome, String> {
    config.validate()?;
    let run = config.out.as_path();
    std::fs::create_dir_all(run).map_err(|e| format!("{}: {e}", run.display()))?;
    let resolved = serde_json::to_string_pretty(config).expect("serializable");
    crate::data::write_atomic(&run.join("run_config.json"), resolved.as_bytes()).map_err(|e| e.to_string())?;
    if train_examples.is_empty() {
        return Err(format!("{stage_name}: no training examples with an answer to learn"));
    }

    let selected = select_device(config.device.parse()?).map_err(|e| format!("--device {}: {e}", config.device))?;
    log(&selected.description);
    let mut session: Session = open_session(run, options.resume, selected.device, config.adamw, base, |_| Ok(()), log)?;
    let seq = config.seq_len.min(session.model.config.max_seq_len);
    let train_rows = pack_examples(train_examples, seq, PAD_ID, config.seed);
    let val_rows = (!val_examples.is_empty()).then(|| pack_examples(val_examples, seq, PAD_ID, config.seed));
    let (rows, learned, truncated) = (train_rows.rows, train_rows.learned_tokens, train_rows.truncated);
    log(&format!(
        "{stage_name}: {} examples packed into {rows} rows of {seq} tokens, {learned} answer tokens learned per epoch{}",
        train_examples.len(),
        if truncated > 0 { format!(" ({truncated} examples longer than a row were cut)") } else { String::new() }
    ));
    let mut stage = SftStage::new(stage_name, train_rows, val_rows, config.batch_size, config.grad_accum, config.seed);
    let steps = if config.steps > 0 { config.steps } else { stage.steps_for_epochs(config.epochs) };
    log(&format!(
        "{stage_name}: {steps} steps of {}×{seq}×{} accum, lr {:.1e} (warmup {}, cosine to {}%)",
        config.batch_size,
        config.grad_accum,
        config.peak_lr,
        config.warmup_steps,
        config.final_lr_fraction * 100.0
    ));
    let trainer = TrainerConfig {
        steps,
        peak_lr: config.peak_lr,
        warmup_steps: config.warmup_steps.min(steps.saturating_sub(1)),
        final_lr_fraction: config.final_lr_fraction,
        adamw: config.adamw,
        grad_clip: config.grad_clip,
        grad_accum: config.grad_accum,
        val_every: config.val_every,
        checkpoint_every: config.checkpoint_every,
    };
    let checkpoints = CheckpointSpec { run: run.to_path_buf(), tokenizer_bin, bos_eos: (BOS_ID, EOS_ID) };
    let summary = train(&mut session, &mut stage, &trainer, &checkpoints, options, log)?;
    Ok(FinetuneOutcome { summary, model: session.model, train_rows: rows, learned_tokens: learned, truncated })
}
