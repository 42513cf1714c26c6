//! Checkpoint formats, all read into one [`Checkpoint`] (config + weights in the engine's
//! interleaved RoPE layout): HF directories (`hf.rs`), the native directory (`native.rs`,
//! HF + tokenizer.bin) and llama2.c `.bin` files (`llama2c.rs`).

mod hf;
mod hf_config;
mod llama2c;
mod native;
pub mod rope_layout;
pub mod safetensors_io;

use std::io::Write;
use std::path::Path;

pub use hf::{load_hf_dir, read_hf_config, save_hf_dir, to_hf_layout};
pub use hf_config::{hf_config_json, parse_hf_config};
pub use llama2c::{load_llama2c, parse_llama2c, save_llama2c};
pub use native::{load_model, save_native, CheckpointFormat, TOKENIZER_FILE};

use crate::config::Config;
use crate::error::{ModelError, Result};
use crate::llama::Llama;
use crate::weights::Weights;

/// A model's config and weights, independent of the file format.
#[derive(Clone, Debug)]
pub struct Checkpoint {
    pub config: Config,
    pub weights: Weights,
}

impl Checkpoint {
    /// The trainable model.
    pub fn into_model(self) -> Result<Llama> {
        Llama::from_weights(&self.config, self.weights)
    }

    /// A snapshot of a model's current weights.
    pub fn from_model(model: &Llama) -> Checkpoint {
        Checkpoint { config: model.config.clone(), weights: model.weights() }
    }
}

/// Writes `bytes` to a temp file beside `path`, then renames it over `path`, so a crash
/// never leaves a half-written file.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<()> {
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!(".{file_name}.tmp{}", std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        ModelError::io(path, e)
    })
}
