//! `Config`: the shape of a LLaMA-2 model, validated. Presets live in `presets.rs`.

use serde::{Deserialize, Serialize};

use crate::error::{ModelError, Result};

/// The hyperparameters that fix every weight shape of a LLaMA-2 model.
///
/// Shapes elsewhere use C = `dim`, H = `n_heads`, KV = `n_kv_heads`, D = `head_dim()`,
/// F = `hidden_dim`, V = `vocab_size`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Config {
    /// Model width C (the residual stream).
    pub dim: usize,
    pub n_layers: usize,
    /// Query heads H; each has D = C / H dims.
    pub n_heads: usize,
    /// Key/value heads KV (grouped-query attention when KV < H; H % KV == 0).
    pub n_kv_heads: usize,
    pub vocab_size: usize,
    /// SwiGLU inner width F (see [`Config::hidden_dim_for`] for Meta's multiple_of rule).
    pub hidden_dim: usize,
    pub norm_eps: f64,
    /// Longest sequence the model is meant for (the KV cache size).
    pub max_seq_len: usize,
    pub rope_theta: f64,
    /// Whether the LM head reuses the token embedding (`lm_head.weight` absent).
    pub tied_embeddings: bool,
}

impl Config {
    /// Head width D = C / H.
    pub fn head_dim(&self) -> usize {
        self.dim / self.n_heads.max(1)
    }

    /// Width of the key/value projections, KV · D.
    pub fn kv_dim(&self) -> usize {
        self.n_kv_heads * self.head_dim()
    }

    /// Meta's FFN width rule: `2/3 · 4C` (times an optional multiplier), rounded up to a
    /// multiple of `multiple_of`. 7B: C=4096, multiple_of=256 → 11008.
    pub fn hidden_dim_for(dim: usize, multiple_of: usize, ffn_dim_multiplier: Option<f64>) -> usize {
        let mut hidden = 2 * (4 * dim) / 3;
        if let Some(m) = ffn_dim_multiplier {
            hidden = (m * hidden as f64) as usize;
        }
        let multiple_of = multiple_of.max(1);
        hidden.div_ceil(multiple_of) * multiple_of
    }

    /// Checks every constraint the layers rely on.
    pub fn validate(&self) -> Result<()> {
        let positive: [(&'static str, usize); 7] = [
            ("dim", self.dim),
            ("n_layers", self.n_layers),
            ("n_heads", self.n_heads),
            ("n_kv_heads", self.n_kv_heads),
            ("vocab_size", self.vocab_size),
            ("hidden_dim", self.hidden_dim),
            ("max_seq_len", self.max_seq_len),
        ];
        for (field, value) in positive {
            if value == 0 {
                return Err(ModelError::config(field, "must be positive"));
            }
        }
        if !self.dim.is_multiple_of(self.n_heads) {
            return Err(ModelError::config(
                "dim",
                format!("dim ({}) must be divisible by n_heads ({})", self.dim, self.n_heads),
            ));
        }
        if !self.n_heads.is_multiple_of(self.n_kv_heads) {
            return Err(ModelError::config(
                "n_kv_heads",
                format!("n_heads ({}) must be divisible by n_kv_heads ({})", self.n_heads, self.n_kv_heads),
            ));
        }
        if !self.head_dim().is_multiple_of(2) {
            return Err(ModelError::config(
                "n_heads",
                format!("head dim dim/n_heads = {} must be even for RoPE", self.head_dim()),
            ));
        }
        if !(self.norm_eps > 0.0 && self.norm_eps.is_finite()) {
            return Err(ModelError::config("norm_eps", format!("must be positive and finite, got {}", self.norm_eps)));
        }
        if !(self.rope_theta > 0.0 && self.rope_theta.is_finite()) {
            return Err(ModelError::config(
                "rope_theta",
                format!("must be positive and finite, got {}", self.rope_theta),
            ));
        }
        if self.vocab_size > u32::MAX as usize / 2 {
            return Err(ModelError::config("vocab_size", format!("{} is too large", self.vocab_size)));
        }
        Ok(())
    }

    /// Number of trainable parameters.
    pub fn num_parameters(&self) -> usize {
        let (c, f, v) = (self.dim, self.hidden_dim, self.vocab_size);
        let attn = c * c * 2 + 2 * c * self.kv_dim();
        let layer = attn + 3 * c * f + 2 * c;
        let head = if self.tied_embeddings { 0 } else { v * c };
        v * c + self.n_layers * layer + c + head
    }
}
