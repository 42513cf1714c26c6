//! The pretraining run config: every knob, with defaults that train the 260K preset on the
//! bundled TinyStories sample in about five minutes on two cores. The resolved config is
//! saved as `run_config.json` in the run directory.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::optim::AdamWConfig;

/// Everything a pretraining run depends on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PretrainConfig {
    /// Model preset name (`tiny`, `260K`, `15M`, …).
    pub preset: String,
    /// Training corpus: plain text with `<|endoftext|>` lines, or `.jsonl`.
    pub data: PathBuf,
    /// JSONL field holding the text.
    pub text_field: String,
    /// Run directory (config, metrics, checkpoints, tokenizer).
    pub out: PathBuf,
    /// Tokenizer to use (`.json` own format or llama2.c `.bin`); trained if absent.
    pub tokenizer: Option<PathBuf>,
    /// Vocabulary size of the tokenizer trained when none is given (overrides the preset's).
    pub vocab_size: usize,
    /// Fraction of documents (the last ones) held out for validation.
    pub val_fraction: f64,
    /// Context length of training windows.
    pub seq_len: usize,
    /// Windows per micro-batch.
    pub batch_size: usize,
    /// Micro-batches per optimizer step.
    pub grad_accum: usize,
    /// Optimizer steps.
    pub steps: u64,
    pub peak_lr: f64,
    pub warmup_steps: u64,
    /// Final learning rate as a fraction of the peak (the paper: 0.1).
    pub final_lr_fraction: f64,
    pub adamw: AdamWConfig,
    /// Global gradient-norm clip (the paper: 1.0); 0 disables.
    pub grad_clip: f64,
    /// Validate every this many steps (and at the end).
    pub val_every: u64,
    /// Number of fixed validation windows.
    pub val_windows: usize,
    /// Checkpoint every this many steps (and at the end).
    pub checkpoint_every: u64,
    pub seed: u64,
    /// Tokens of the sample story printed at the end (0: none).
    pub sample_tokens: usize,
    /// Where the model trains: `cpu`, `gpu`, `gpu:N` or `auto` (GPU when one opens).
    pub device: String,
}

impl Default for PretrainConfig {
    fn default() -> Self {
        PretrainConfig {
            preset: "260K".into(),
            data: PathBuf::from("data/tinystories_sample.txt"),
            text_field: "text".into(),
            out: PathBuf::from("runs/pretrain"),
            tokenizer: None,
            vocab_size: 512,
            val_fraction: 0.05,
            seq_len: 256,
            batch_size: 32,
            grad_accum: 1,
            steps: 500,
            peak_lr: 5e-3,
            warmup_steps: 100,
            final_lr_fraction: 0.1,
            adamw: AdamWConfig::default(),
            grad_clip: 1.0,
            val_every: 50,
            val_windows: 64,
            checkpoint_every: 100,
            seed: 1337,
            sample_tokens: 200,
            device: "cpu".into(),
        }
    }
}

impl PretrainConfig {
    /// Reads a JSON config file; unknown fields are errors (they are usually typos).
    pub fn from_json_file(path: &std::path::Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Checks the knobs that would otherwise fail deep inside the loop.
    pub fn validate(&self) -> Result<(), String> {
        let positive = [
            ("seq_len", self.seq_len as u64),
            ("batch_size", self.batch_size as u64),
            ("grad_accum", self.grad_accum as u64),
            ("steps", self.steps),
            ("val_every", self.val_every),
            ("checkpoint_every", self.checkpoint_every),
        ];
        for (name, value) in positive {
            if value == 0 {
                return Err(format!("config field `{name}` must be at least 1"));
            }
        }
        if !(self.peak_lr > 0.0 && self.peak_lr.is_finite()) {
            return Err(format!("config field `peak_lr` must be a positive number, got {}", self.peak_lr));
        }
        if !(0.0..1.0).contains(&self.val_fraction) {
            return Err(format!("config field `val_fraction` must be in [0, 1), got {}", self.val_fraction));
        }
        if !(0.0..=1.0).contains(&self.final_lr_fraction) {
            return Err(format!("config field `final_lr_fraction` must be in [0, 1], got {}", self.final_lr_fraction));
        }
        self.device.parse::<llamaforge_engine::DeviceSpec>().map_err(|e| format!("config field `device`: {e}"))?;
        Ok(())
    }
}
