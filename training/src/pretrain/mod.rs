//! Pretraining (the first stage of the LLaMA-2 paper): next-token loss with AdamW, linear
//! warmup and cosine decay, global-norm clipping and gradient accumulation.

mod checkpoint;
mod config;
mod metrics;
mod run;

pub use checkpoint::{checkpoint_dir, load_checkpoint, save_checkpoint, TrainerState};
pub use config::PretrainConfig;
pub use metrics::{read_metrics, MetricsLog, MetricsRecord};
pub use run::{pretrain, PretrainSummary, RunOptions};
