//! Generation without autograd: a KV-cached single-token inference path on plain f32
//! buffers (`inference.rs`, `kernels.rs`, `kv_cache.rs`), sampling (`sampler.rs`),
//! batched generation (`generation.rs`) and scoring of given continuations (`score.rs`).

mod generation;
mod inference;
pub mod kernels;
mod kv_cache;
mod sampler;
mod score;

pub use generation::{generate, FinishReason, GenerateOptions, Generation};
pub use inference::{InferenceModel, InferenceState};
pub use kv_cache::KvCache;
pub use sampler::{argmax, log_prob, Sampler, Sampling};
pub use score::score;
