//! llamaforge-training: optimizers, schedules, data and the training stages of the
//! LLaMA-2 paper.

pub mod data;
pub mod optim;
pub mod plot;
pub mod pretrain;
pub mod task;
