//! The native checkpoint: an HF-compatible directory (`config.json`, `model.safetensors`
//! with HF names and rotate-half q/k rows) plus the tokenizer as llama2.c's
//! `tokenizer.bin`. Also format detection for "give me a model from this path".

use std::path::Path;

use super::{atomic_write, load_hf_dir, load_llama2c, save_hf_dir, Checkpoint};
use crate::error::{ModelError, Result};

/// File name of the tokenizer inside a native directory.
pub const TOKENIZER_FILE: &str = "tokenizer.bin";

/// Which format a path held.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckpointFormat {
    /// A directory with config.json + model.safetensors (native or HF).
    HfDir,
    /// A llama2.c legacy `.bin` file.
    Llama2c,
}

/// Loads a checkpoint from a directory (native/HF) or a file (llama2.c `.bin`).
pub fn load_model(path: &Path) -> Result<(Checkpoint, CheckpointFormat)> {
    let meta = std::fs::metadata(path).map_err(|e| ModelError::io(path, e))?;
    if meta.is_dir() {
        Ok((load_hf_dir(path)?, CheckpointFormat::HfDir))
    } else {
        Ok((load_llama2c(path)?, CheckpointFormat::Llama2c))
    }
}

/// Writes a native directory: the HF files plus `tokenizer.bin` (its llama2.c bytes).
pub fn save_native(dir: &Path, checkpoint: &Checkpoint, tokenizer_bin: &[u8], bos_id: u32, eos_id: u32) -> Result<()> {
    save_hf_dir(dir, checkpoint, bos_id, eos_id)?;
    atomic_write(&dir.join(TOKENIZER_FILE), tokenizer_bin)
}
