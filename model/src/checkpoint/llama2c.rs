//! llama2.c's legacy `.bin` checkpoint (`run.c`'s format).
//!
//! Header: seven little-endian i32 — dim, hidden_dim, n_layers, n_heads, n_kv_heads,
//! vocab_size, seq_len. A *negative* vocab_size means the classifier is stored separately
//! (untied). Then f32 arrays, each layer-stacked: token_embedding `[V, C]`,
//! rms_att `[L, C]`, wq `[L, H·D, C]`, wk `[L, KV·D, C]`, wv `[L, KV·D, C]`,
//! wo `[L, C, H·D]`, rms_ffn `[L, C]`, w1 `[L, F, C]`, w2 `[L, C, F]`, w3 `[L, F, C]`,
//! rms_final `[C]`, freq_cis_real and freq_cis_imag (`[seq_len, D/2]` each, skipped on read:
//! RoPE is recomputed), then wcls `[V, C]` if untied. Rows are `[out, in]` and q/k rows are
//! already interleaved, so no RoPE permutation is needed.

use std::path::Path;

use llamaforge_engine::Tensor;

use super::{atomic_write, Checkpoint};
use crate::config::Config;
use crate::error::{ModelError, Result};
use crate::weights::{check_weights, Weights};

const HEADER_BYTES: usize = 7 * 4;
/// The first i32 of llama2.c's newer versioned exports ("ak42"), which this reader rejects.
const VERSIONED_MAGIC: i32 = 0x616b_3432;

/// One layer-stacked array of the file: (HF name pattern with `{i}`, rows, cols).
fn layer_arrays(c: &Config) -> [(&'static str, usize, usize); 9] {
    let (dim, f, qd, kvd) = (c.dim, c.hidden_dim, c.n_heads * c.head_dim(), c.kv_dim());
    [
        ("input_layernorm", 1, dim),
        ("self_attn.q_proj", qd, dim),
        ("self_attn.k_proj", kvd, dim),
        ("self_attn.v_proj", kvd, dim),
        ("self_attn.o_proj", dim, qd),
        ("post_attention_layernorm", 1, dim),
        ("mlp.gate_proj", f, dim),
        ("mlp.down_proj", dim, f),
        ("mlp.up_proj", f, dim),
    ]
}

/// Number of f32 values the file must hold after the header for `config`.
fn expected_floats(c: &Config) -> Option<u64> {
    let per_layer: u64 = layer_arrays(c).iter().map(|&(_, r, k)| r as u64 * k as u64).sum();
    let embed = c.vocab_size as u64 * c.dim as u64;
    let freqs = c.max_seq_len as u64 * c.head_dim() as u64; // real + imag, D/2 each
    let head = if c.tied_embeddings { 0 } else { embed };
    per_layer.checked_mul(c.n_layers as u64)?.checked_add(embed + c.dim as u64 + freqs + head)
}

/// Parses the header into a config (rope_theta 10000, norm_eps 1e-5 as in run.c).
fn parse_header(path: &Path, bytes: &[u8]) -> Result<Config> {
    if bytes.len() < HEADER_BYTES {
        return Err(ModelError::format(path, format!("{} bytes is too short for the 28-byte header", bytes.len())));
    }
    let h: Vec<i32> =
        bytes[..HEADER_BYTES].chunks_exact(4).map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
    if h[0] == VERSIONED_MAGIC {
        return Err(ModelError::format(
            path,
            "a versioned llama2.c export (magic ak42); only the legacy format is supported",
        ));
    }
    let names = ["dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len"];
    for (i, (&value, name)) in h.iter().zip(names).enumerate() {
        if value == 0 || (value < 0 && i != 5) || value == i32::MIN {
            return Err(ModelError::format(path, format!("header field `{name}` is {value}")));
        }
    }
    let config = Config {
        dim: h[0] as usize,
        hidden_dim: h[1] as usize,
        n_layers: h[2] as usize,
        n_heads: h[3] as usize,
        n_kv_heads: h[4] as usize,
        vocab_size: h[5].unsigned_abs() as usize,
        max_seq_len: h[6] as usize,
        tied_embeddings: h[5] > 0,
        norm_eps: 1e-5,
        rope_theta: 10000.0,
    };
    config.validate().map_err(|e| ModelError::format(path, format!("header: {e}")))?;
    Ok(config)
}

/// Reads a legacy llama2.c `.bin` file.
pub fn load_llama2c(path: &Path) -> Result<Checkpoint> {
    let bytes = std::fs::read(path).map_err(|e| ModelError::io(path, e))?;
    parse_llama2c(path, &bytes)
}

/// [`load_llama2c`] on bytes in memory (`path` names them in errors).
pub fn parse_llama2c(path: &Path, bytes: &[u8]) -> Result<Checkpoint> {
    let config = parse_header(path, bytes)?;
    let floats = expected_floats(&config).ok_or_else(|| ModelError::format(path, "header sizes overflow"))?;
    let body = (bytes.len() - HEADER_BYTES) as u64;
    if body != floats * 4 {
        let what = if body < floats * 4 { "truncated" } else { "has trailing bytes" };
        return Err(ModelError::format(
            path,
            format!("file is {what}: {} bytes, the header implies {}", bytes.len(), floats * 4 + HEADER_BYTES as u64),
        ));
    }
    let mut cursor = HEADER_BYTES;
    let mut take = |n: usize| -> Vec<f32> {
        let out = bytes[cursor..cursor + 4 * n]
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        cursor += 4 * n;
        out
    };
    let (c, l) = (config.dim, config.n_layers);
    let mut weights = Weights::new();
    weights.insert(
        "model.embed_tokens.weight".into(),
        Tensor::from_vec(take(config.vocab_size * c), &[config.vocab_size, c]),
    );
    for (part, rows, cols) in layer_arrays(&config) {
        let stacked = take(l * rows * cols);
        for (i, chunk) in stacked.chunks_exact(rows * cols).enumerate() {
            let shape: Vec<usize> = if rows == 1 { vec![cols] } else { vec![rows, cols] };
            weights.insert(format!("model.layers.{i}.{part}.weight"), Tensor::from_vec(chunk.to_vec(), &shape));
        }
    }
    weights.insert("model.norm.weight".into(), Tensor::from_vec(take(c), &[c]));
    take(config.max_seq_len * config.head_dim()); // freq_cis_real, freq_cis_imag
    if !config.tied_embeddings {
        weights.insert("lm_head.weight".into(), Tensor::from_vec(take(config.vocab_size * c), &[config.vocab_size, c]));
    }
    check_weights(&config, &mut weights).map_err(|e| ModelError::format(path, e.to_string()))?;
    Ok(Checkpoint { config, weights })
}

/// Writes a legacy llama2.c `.bin` file (with the freq_cis tables run.c's reader skips).
pub fn save_llama2c(path: &Path, checkpoint: &Checkpoint) -> Result<()> {
    let config = &checkpoint.config;
    let w = &checkpoint.weights;
    let get = |name: &str| -> Result<Vec<f32>> {
        w.get(name).map(|t| t.to_vec::<f32>()).ok_or_else(|| ModelError::weight(name, "missing"))
    };
    let vocab = config.vocab_size as i32;
    let header = [
        config.dim as i32,
        config.hidden_dim as i32,
        config.n_layers as i32,
        config.n_heads as i32,
        config.n_kv_heads as i32,
        if config.tied_embeddings { vocab } else { -vocab },
        config.max_seq_len as i32,
    ];
    let mut out: Vec<u8> = header.iter().flat_map(|v| v.to_le_bytes()).collect();
    let mut put = |values: &[f32]| out.extend(values.iter().flat_map(|v| v.to_le_bytes()));
    put(&get("model.embed_tokens.weight")?);
    for (part, _, _) in layer_arrays(config) {
        for i in 0..config.n_layers {
            put(&get(&format!("model.layers.{i}.{part}.weight"))?);
        }
    }
    put(&get("model.norm.weight")?);
    let (d, half) = (config.head_dim(), config.head_dim() / 2);
    let angle = |t: usize, i: usize| t as f64 * config.rope_theta.powf(-((2 * i) as f64) / d as f64);
    let cos: Vec<f32> =
        (0..config.max_seq_len).flat_map(|t| (0..half).map(move |i| angle(t, i).cos() as f32)).collect();
    let sin: Vec<f32> =
        (0..config.max_seq_len).flat_map(|t| (0..half).map(move |i| angle(t, i).sin() as f32)).collect();
    put(&cos);
    put(&sin);
    if !config.tied_embeddings {
        put(&get("lm_head.weight")?);
    }
    atomic_write(path, &out)
}
