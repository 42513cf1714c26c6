//! Generation without autograd: a KV-cached single-token inference path on plain f32
//! buffers (`inference.rs`, `kernels.rs`, `kv_cache.rs`, weights in one huge-page arena:
//! `arena.rs`), sampling (`sampler.rs`),
//! batched generation (`generation.rs`), scoring of given continuations (`score.rs`) and
//! the thread team that splits each token of a single sequence over the cores (`team.rs`);
//! and batched KV-cached decoding with the training layers on any device, log-probs
//! included (`device_decode.rs`).

mod arena;
mod device_decode;
mod generation;
mod inference;
pub mod kernels;
mod kv_cache;
mod sampler;
mod score;
pub mod team;

pub use device_decode::{generate_batch_on_device, generate_on_device};
pub use generation::{generate, FinishReason, GenerateOptions, Generation};
pub use inference::{InferenceModel, InferenceState};
pub use kv_cache::KvCache;
pub use sampler::{argmax, log_prob, Sampler, Sampling};
pub use score::score;
