//! llamaforge-training: optimizers, schedules, data and the training stages of the
//! LLaMA-2 paper.
//!
//! - [`trainer`]: the one loop every stage runs on.
//! - [`pretrain`], [`stages`] (SFT, Ghost Attention): the stages.
//! - [`task`]: the verifiable instruction task and its gold judges; [`eval`]: scoring
//!   models with them.

pub mod data;
pub mod eval;
pub mod optim;
pub mod plot;
pub mod pretrain;
pub mod stages;
pub mod task;
pub mod trainer;
