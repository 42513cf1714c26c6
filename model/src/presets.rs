//! Named model shapes: llama2.c's tinyllamas (260K, 15M, 42M, 110M), `tiny` for tests, and
//! the LLaMA-2 paper's 7B / 13B / 70B (configs only).

use crate::config::Config;
use crate::error::{ModelError, Result};

/// The preset names [`preset`] accepts.
pub const PRESETS: [&str; 8] = ["tiny", "260K", "15M", "42M", "110M", "7B", "13B", "70B"];

fn tinyllama(
    dim: usize,
    n_layers: usize,
    n_heads: usize,
    n_kv_heads: usize,
    vocab: usize,
    hidden: usize,
    seq: usize,
) -> Config {
    Config {
        dim,
        n_layers,
        n_heads,
        n_kv_heads,
        vocab_size: vocab,
        hidden_dim: hidden,
        norm_eps: 1e-5,
        max_seq_len: seq,
        rope_theta: 10000.0,
        tied_embeddings: true,
    }
}

fn llama2(dim: usize, n_layers: usize, n_heads: usize, n_kv_heads: usize, ffn_dim_multiplier: Option<f64>) -> Config {
    Config {
        dim,
        n_layers,
        n_heads,
        n_kv_heads,
        vocab_size: 32000,
        hidden_dim: Config::hidden_dim_for(
            dim,
            if ffn_dim_multiplier.is_some() { 4096 } else { 256 },
            ffn_dim_multiplier,
        ),
        norm_eps: 1e-5,
        max_seq_len: 4096,
        rope_theta: 10000.0,
        tied_embeddings: false,
    }
}

/// The config of a named preset (case-insensitive: "15m" works).
pub fn preset(name: &str) -> Result<Config> {
    let config = match name.to_ascii_uppercase().as_str() {
        // the shape of the HF parity fixture: GQA with 2 query heads per kv head, untied
        "TINY" => Config { tied_embeddings: false, ..tinyllama(32, 2, 4, 2, 64, 64, 64) },
        "260K" => tinyllama(64, 5, 8, 4, 512, 172, 512),
        "15M" => tinyllama(288, 6, 6, 6, 32000, 768, 256),
        "42M" => tinyllama(512, 8, 8, 8, 32000, 1376, 1024),
        "110M" => tinyllama(768, 12, 12, 12, 32000, 2048, 1024),
        "7B" => llama2(4096, 32, 32, 32, None),
        "13B" => llama2(5120, 40, 40, 40, None),
        // 70B: GQA with 8 kv heads, ffn_dim_multiplier 1.3, multiple_of 4096 → 28672
        "70B" => llama2(8192, 80, 64, 8, Some(1.3)),
        _ => {
            return Err(ModelError::config("preset", format!("unknown preset `{name}`; known: {}", PRESETS.join(", "))))
        }
    };
    config.validate()?;
    Ok(config)
}
