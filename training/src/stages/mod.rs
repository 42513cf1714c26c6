//! The fine-tuning stages of the LLaMA-2 paper, each a [`crate::trainer::Stage`] on the
//! shared trainer: supervised fine-tuning (`sft.rs`, run by `finetune.rs`) and Ghost
//! Attention (`gatt.rs`). Pretraining lives in [`crate::pretrain`].

pub mod finetune;
pub mod gatt;
pub mod gatt_job;
pub mod sft;
pub mod sft_job;

pub use finetune::{finetune, FinetuneConfig, FinetuneOutcome};
pub use sft::{encode_dialogues, masked_batch, masked_loss, SftStage, PAD_ID};
