//! HF LLaMA checkpoint directories: `config.json` + `model.safetensors` (HF tensor names,
//! rotate-half q/k rows). The native format is the same directory plus `tokenizer.bin`.

use std::path::Path;

use super::hf_config::{hf_config_json, parse_hf_config};
use super::rope_layout::{hf_to_interleaved, interleaved_to_hf, rope_heads};
use super::safetensors_io::{read_f32_tensors, write_f32_tensors};
use super::{atomic_write, Checkpoint};
use crate::config::Config;
use crate::error::{ModelError, Result};
use crate::weights::{check_weights, Weights};

/// Reads `dir/config.json` alone.
pub fn read_hf_config(dir: &Path) -> Result<Config> {
    let path = dir.join("config.json");
    let text = std::fs::read_to_string(&path).map_err(|e| ModelError::io(&path, e))?;
    parse_hf_config(&path, &text)
}

/// Loads an HF directory: config, then weights converted to f32 and interleaved q/k rows.
pub fn load_hf_dir(dir: &Path) -> Result<Checkpoint> {
    let config = read_hf_config(dir)?;
    let path = dir.join("model.safetensors");
    let mut weights: Weights = read_f32_tensors(&path)?;
    check_weights(&config, &mut weights).map_err(|e| ModelError::format(&path, e.to_string()))?;
    for (name, w) in weights.iter_mut() {
        if let Some(heads) = rope_heads(name, config.n_heads, config.n_kv_heads) {
            *w = hf_to_interleaved(w, heads);
        }
    }
    Ok(Checkpoint { config, weights })
}

/// The weights with q/k rows in HF's rotate-half layout (the inverse of loading).
pub fn to_hf_layout(config: &Config, weights: &Weights) -> Weights {
    weights
        .iter()
        .map(|(name, w)| {
            let w = match rope_heads(name, config.n_heads, config.n_kv_heads) {
                Some(heads) => interleaved_to_hf(w, heads),
                None => w.clone(),
            };
            (name.clone(), w)
        })
        .collect()
}

/// Writes `dir/config.json` and `dir/model.safetensors` (each atomically).
pub fn save_hf_dir(dir: &Path, checkpoint: &Checkpoint, bos_id: u32, eos_id: u32) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| ModelError::io(dir, e))?;
    let tensors = to_hf_layout(&checkpoint.config, &checkpoint.weights);
    let metadata = Some([("format".to_string(), "pt".to_string())].into_iter().collect());
    write_f32_tensors(&dir.join("model.safetensors"), &tensors, metadata)?;
    atomic_write(&dir.join("config.json"), hf_config_json(&checkpoint.config, bos_id, eos_id).as_bytes())
}
