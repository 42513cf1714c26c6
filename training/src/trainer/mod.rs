//! The one training loop of every stage (pretraining, SFT, GAtt, and the reward model,
//! rejection-sampling and PPO updates after them). A stage is a [`Stage`]: it supplies
//! the loss of each micro-batch and an optional validation; [`train`] owns the rest —
//! AdamW, the warmup + cosine schedule, global-norm clipping, accumulation, metrics.jsonl
//! (with the stage's own fields), atomic checkpoints with bit-exact resume, Ctrl-C and
//! the NaN guard. [`open_session`] builds or restores the model and optimizer, with the
//! stage's freezing and heads applied the same way both times.

mod checkpoint;
pub mod interrupt;
mod metrics;
mod run;
mod stage;

pub use checkpoint::{checkpoint_dir, load_checkpoint, save_checkpoint, Resumed, TrainerState};
pub use metrics::{read_metrics, MetricsLog, MetricsRecord};
pub use run::{open_session, train, CheckpointSpec, RunOptions, Session, TrainSummary, TrainerConfig};
pub use stage::{MicroLoss, Stage, Validation};
