//! The named weights of a model: HF LLaMA tensor names, their shapes for a config, and the
//! `Weights` map every checkpoint format is read into and written from.
//!
//! Query/key rows in a `Weights` map are always in the interleaved RoPE layout (the
//! engine's); HF files are converted at the boundary (`checkpoint/rope_layout.rs`).

use std::collections::BTreeMap;

use llamaforge_engine::Tensor;

use crate::config::Config;
use crate::error::{ModelError, Result};

/// Tensors by HF name, f32, interleaved RoPE layout.
pub type Weights = BTreeMap<String, Tensor>;

/// Every parameter of a model of `config`, in a stable order, with its shape.
pub fn weight_shapes(config: &Config) -> Vec<(String, Vec<usize>)> {
    let (c, f, v) = (config.dim, config.hidden_dim, config.vocab_size);
    let (qd, kvd) = (config.n_heads * config.head_dim(), config.kv_dim());
    let mut out = vec![("model.embed_tokens.weight".to_string(), vec![v, c])];
    for i in 0..config.n_layers {
        let p = format!("model.layers.{i}");
        out.push((format!("{p}.input_layernorm.weight"), vec![c]));
        out.push((format!("{p}.self_attn.q_proj.weight"), vec![qd, c]));
        out.push((format!("{p}.self_attn.k_proj.weight"), vec![kvd, c]));
        out.push((format!("{p}.self_attn.v_proj.weight"), vec![kvd, c]));
        out.push((format!("{p}.self_attn.o_proj.weight"), vec![c, qd]));
        out.push((format!("{p}.post_attention_layernorm.weight"), vec![c]));
        out.push((format!("{p}.mlp.gate_proj.weight"), vec![f, c]));
        out.push((format!("{p}.mlp.up_proj.weight"), vec![f, c]));
        out.push((format!("{p}.mlp.down_proj.weight"), vec![c, f]));
    }
    out.push(("model.norm.weight".to_string(), vec![c]));
    if !config.tied_embeddings {
        out.push(("lm_head.weight".to_string(), vec![v, c]));
    }
    out
}

/// Checks that `weights` holds exactly the tensors of `config` with the right shapes.
/// Scalar heads ([`crate::heads::HEAD_NAMES`]) may sit beside them (their shapes are
/// checked where the model takes them). Extra names are an error, except a redundant `lm_head.weight` in a tied model and HF's
/// non-persistent `rotary_emb.inv_freq` buffers (older exports), which are dropped.
pub fn check_weights(config: &Config, weights: &mut Weights) -> Result<()> {
    if config.tied_embeddings {
        weights.remove("lm_head.weight");
    }
    weights.retain(|name, _| !name.ends_with("rotary_emb.inv_freq"));
    let expected = weight_shapes(config);
    for (name, shape) in &expected {
        let t = weights.get(name).ok_or_else(|| ModelError::weight(name, "missing"))?;
        if t.shape() != shape.as_slice() {
            return Err(ModelError::weight(name, format!("shape {:?}, the config needs {shape:?}", t.shape())));
        }
    }
    let heads = weights.keys().filter(|n| crate::heads::is_head(n)).count();
    if weights.len() != expected.len() + heads {
        let known: std::collections::HashSet<&str> = expected.iter().map(|(n, _)| n.as_str()).collect();
        let extra = weights
            .keys()
            .find(|n| !known.contains(n.as_str()) && !crate::heads::is_head(n))
            .cloned()
            .unwrap_or_default();
        return Err(ModelError::weight(extra, "not a parameter of this config"));
    }
    Ok(())
}

/// HF-style random init: N(0, 0.02) matrices and embeddings, RMSNorm gains 1.
pub fn random_weights(config: &Config, seed: u64) -> Weights {
    weight_shapes(config)
        .into_iter()
        .enumerate()
        .map(|(i, (name, shape))| {
            let t = if shape.len() == 1 {
                Tensor::ones(&shape, llamaforge_engine::DType::F32)
            } else {
                Tensor::randn(
                    &shape,
                    0.02,
                    llamaforge_engine::DType::F32,
                    seed.wrapping_mul(1_000_003).wrapping_add(i as u64),
                )
            };
            (name, t)
        })
        .collect()
}
