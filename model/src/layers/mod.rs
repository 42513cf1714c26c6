//! The layers of a LLaMA-2 model, each over autograd `Var`s with HF-named parameters.
//! Shapes: B batch, T time, C model width, H query heads, KV key/value heads, D head width,
//! F SwiGLU width, V vocabulary.

mod attention;
mod block;
mod kv_tensors;
mod linear;
mod mlp;
mod rms_norm;

pub use attention::Attention;
pub use block::Block;
pub use kv_tensors::KvTensors;
pub use linear::linear;
pub use mlp::Mlp;
pub use rms_norm::RmsNorm;
