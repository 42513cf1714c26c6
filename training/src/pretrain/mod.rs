//! Pretraining (the first stage of the LLaMA-2 paper): next-token loss with AdamW, linear
//! warmup and cosine decay, global-norm clipping and gradient accumulation — a [`Stage`]
//! of random windows of the corpus on the shared trainer.
//!
//! [`Stage`]: crate::trainer::Stage

mod config;
mod run;

pub use crate::trainer::{
    checkpoint_dir, load_checkpoint, read_metrics, save_checkpoint, MetricsLog, MetricsRecord, RunOptions, TrainerState,
};
pub use config::PretrainConfig;
pub use run::{pretrain, PretrainSummary};
