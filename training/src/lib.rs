//! llamaforge-training: optimizers, schedules, data and the training stages of the
//! LLaMA-2 paper.

pub mod optim;
pub mod data;
