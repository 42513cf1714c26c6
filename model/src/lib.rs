//! llamaforge-model: the LLaMA-2 model and everything around it.
//!
//! - [`Config`] and its presets ([`preset`]): the shapes, validated.
//! - [`Llama`]: the trainable model over autograd `Var`s with HF parameter names
//!   (`layers/` holds RMSNorm, attention with RoPE + GQA, SwiGLU), and the losses in
//!   [`loss`].
//! - [`generate`]: a no-grad inference path with a KV cache, sampling and scoring.
//! - [`heads`]: the reward model's `score.weight` and PPO's value head, with freezing
//!   ([`Llama::freeze_where`]).
//! - [`checkpoint`]: HF / native directories and llama2.c `.bin` files.
//! - [`chat`]: the LLaMA-2-chat template.
//! - [`tokenizer`]: SentencePiece-style BPE with byte fallback; trains, reads and writes
//!   llama2.c's `tokenizer.bin`.

pub mod attention_maps;
pub mod chat;
pub mod checkpoint;
pub mod config;
pub mod error;
pub mod generate;
pub mod heads;
pub mod layers;
pub mod llama;
pub mod loss;
pub mod presets;
pub mod tokenizer;
pub mod weights;

pub use config::Config;
pub use error::{ModelError, Result};
pub use llama::Llama;
pub use presets::{preset, PRESETS};
pub use weights::Weights;
