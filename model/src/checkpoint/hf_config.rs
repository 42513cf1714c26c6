//! HF `config.json` for `LlamaForCausalLM` ⇄ [`Config`]. Both layouts of the RoPE base are
//! read: the older top-level `rope_theta` and the newer `rope_parameters.rope_theta`.

use std::path::Path;

use serde_json::{json, Value};

use crate::config::Config;
use crate::error::{ModelError, Result};

fn field<'a>(path: &Path, obj: &'a Value, name: &str) -> Result<&'a Value> {
    obj.get(name).filter(|v| !v.is_null()).ok_or_else(|| ModelError::format(path, format!("field `{name}` is missing")))
}

fn usize_field(path: &Path, obj: &Value, name: &str) -> Result<usize> {
    field(path, obj, name)?
        .as_u64()
        .map(|v| v as usize)
        .ok_or_else(|| ModelError::format(path, format!("field `{name}` must be a non-negative integer")))
}

fn f64_field(path: &Path, obj: &Value, name: &str) -> Result<f64> {
    field(path, obj, name)?.as_f64().ok_or_else(|| ModelError::format(path, format!("field `{name}` must be a number")))
}

/// Parses the text of an HF LLaMA `config.json` (`path` names it in errors).
pub fn parse_hf_config(path: &Path, text: &str) -> Result<Config> {
    let v: Value = serde_json::from_str(text).map_err(|e| ModelError::format(path, format!("invalid JSON: {e}")))?;
    if !v.is_object() {
        return Err(ModelError::format(path, "expected a JSON object"));
    }
    if let Some(model_type) = v.get("model_type").and_then(Value::as_str) {
        if model_type != "llama" {
            return Err(ModelError::format(path, format!("field `model_type` is `{model_type}`, expected `llama`")));
        }
    }
    if let Some(act) = v.get("hidden_act").and_then(Value::as_str) {
        if act != "silu" {
            return Err(ModelError::format(path, format!("field `hidden_act` is `{act}`; only `silu` is supported")));
        }
    }
    let n_heads = usize_field(path, &v, "num_attention_heads")?;
    let dim = usize_field(path, &v, "hidden_size")?;
    let rope_theta = match v.get("rope_parameters").filter(|p| !p.is_null()) {
        Some(params) => {
            let kind = params.get("rope_type").and_then(Value::as_str).unwrap_or("default");
            if kind != "default" {
                return Err(ModelError::format(
                    path,
                    format!("field `rope_parameters.rope_type` `{kind}` is not supported"),
                ));
            }
            f64_field(path, params, "rope_theta")?
        }
        None => {
            if v.get("rope_scaling").is_some_and(|s| !s.is_null()) {
                return Err(ModelError::format(path, "field `rope_scaling` is set; RoPE scaling is not supported"));
            }
            v.get("rope_theta").and_then(Value::as_f64).unwrap_or(10000.0)
        }
    };
    if let Some(head_dim) = v.get("head_dim").and_then(Value::as_u64) {
        if n_heads > 0 && head_dim as usize * n_heads != dim {
            return Err(ModelError::format(
                path,
                format!("field `head_dim` ({head_dim}) × num_attention_heads ({n_heads}) ≠ hidden_size ({dim})"),
            ));
        }
    }
    let config = Config {
        dim,
        n_layers: usize_field(path, &v, "num_hidden_layers")?,
        n_heads,
        n_kv_heads: match v.get("num_key_value_heads").filter(|x| !x.is_null()) {
            Some(_) => usize_field(path, &v, "num_key_value_heads")?,
            None => n_heads,
        },
        vocab_size: usize_field(path, &v, "vocab_size")?,
        hidden_dim: usize_field(path, &v, "intermediate_size")?,
        norm_eps: v.get("rms_norm_eps").and_then(Value::as_f64).unwrap_or(1e-6),
        max_seq_len: v.get("max_position_embeddings").and_then(Value::as_u64).unwrap_or(2048) as usize,
        rope_theta,
        tied_embeddings: v.get("tie_word_embeddings").and_then(Value::as_bool).unwrap_or(false),
    };
    config.validate().map_err(|e| ModelError::format(path, e.to_string()))?;
    Ok(config)
}

/// An HF `config.json` for `config`, with the RoPE base in both layouts so old and new
/// `transformers` read it.
pub fn hf_config_json(config: &Config, bos_id: u32, eos_id: u32) -> String {
    let v = json!({
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_size": config.dim,
        "intermediate_size": config.hidden_dim,
        "num_hidden_layers": config.n_layers,
        "num_attention_heads": config.n_heads,
        "num_key_value_heads": config.n_kv_heads,
        "head_dim": config.head_dim(),
        "vocab_size": config.vocab_size,
        "rms_norm_eps": config.norm_eps,
        "max_position_embeddings": config.max_seq_len,
        "rope_theta": config.rope_theta,
        "rope_parameters": { "rope_theta": config.rope_theta, "rope_type": "default" },
        "tie_word_embeddings": config.tied_embeddings,
        "hidden_act": "silu",
        "attention_bias": false,
        "mlp_bias": false,
        "bos_token_id": bos_id,
        "eos_token_id": eos_id,
        "dtype": "float32",
    });
    serde_json::to_string_pretty(&v).expect("JSON value serializes") + "\n"
}
