//! Optimizers and what surrounds a step: AdamW, the learning-rate schedule and gradient
//! clipping.

mod adamw;
mod clip;
mod schedule;

pub use adamw::{AdamW, AdamWConfig, AdamWState, DecayPolicy};
pub use clip::{clip_scale, global_grad_norm};
pub use schedule::CosineSchedule;
