//! The no-grad inference path: one token at a time on plain f32 buffers, with a
//! preallocated KV cache and scratch space reused for every token — no autograd graph, no
//! allocation per token. Mirrors `Llama::forward` (same weights, same interleaved RoPE).

use std::ops::Range;

use super::arena::{ArenaBuilder, WeightArena};
use super::kernels::{attend_head, matvec, rms_norm, swiglu};
use super::kv_cache::KvCache;
use super::team::{with_team, Disjoint, Team};
use crate::config::Config;
use crate::error::{ModelError, Result};
use crate::llama::Llama;
use crate::weights::{check_weights, Weights};

/// One layer's weights, row-major `[out, in]`, as element ranges of the model's arena.
struct LayerWeights {
    /// `[C]`
    attn_norm: Range<usize>,
    /// q, k and v projections stacked: `[(H + 2·KV)·D, C]` — one matvec instead of three.
    wqkv: Range<usize>,
    /// `[C, H·D]`
    wo: Range<usize>,
    /// `[C]`
    ffn_norm: Range<usize>,
    /// gate and up projections stacked: `[2F, C]`.
    w_gate_up: Range<usize>,
    /// `[C, F]`
    w_down: Range<usize>,
}

/// A model prepared for fast decoding.
pub struct InferenceModel {
    pub config: Config,
    /// Every weight below, in one huge-page-backed allocation.
    arena: WeightArena,
    /// `[V, C]`
    embed: Range<usize>,
    layers: Vec<LayerWeights>,
    /// `[C]`
    final_norm: Range<usize>,
    /// `[V, C]` (the same range as `embed` when tied).
    lm_head: Range<usize>,
    /// RoPE cos and sin `[S, D/2]` (the engine's table: angle `p · θ^(−2i/D)` in f64).
    rope_cos: Vec<f32>,
    rope_sin: Vec<f32>,
}

/// Per-sequence decoding state: the KV cache and reused scratch buffers.
pub struct InferenceState {
    pub cache: KvCache,
    /// residual stream `[C]`
    x: Vec<f32>,
    /// normed input of a sublayer `[C]`
    normed: Vec<f32>,
    /// q, k, v of this token `[(H + 2·KV)·D]`
    qkv: Vec<f32>,
    /// attention output `[H·D]`
    attn_out: Vec<f32>,
    /// attention weights `[H, S]`
    scores: Vec<f32>,
    /// gate and up `[2F]`
    gate_up: Vec<f32>,
    /// sublayer output `[C]`
    sublayer_out: Vec<f32>,
    /// `[V]`
    pub logits: Vec<f32>,
}

impl InferenceModel {
    /// Copies the weights of a trainable model.
    pub fn from_llama(model: &Llama) -> InferenceModel {
        InferenceModel::from_weights(&model.config, &model.weights()).expect("a built model has consistent weights")
    }

    /// Builds from named weights (interleaved RoPE layout).
    pub fn from_weights(config: &Config, weights: &Weights) -> Result<InferenceModel> {
        config.validate()?;
        let mut weights = weights.clone();
        check_weights(config, &mut weights)?;
        let get = |name: &str| -> Vec<f32> { weights[name].to_dtype(llamaforge_engine::DType::F32).to_vec::<f32>() };
        // the parts in the order they are read while decoding a token
        let mut parts = ArenaBuilder::default();
        let embed = parts.push(get("model.embed_tokens.weight"));
        let layers = (0..config.n_layers)
            .map(|i| {
                let p = format!("model.layers.{i}");
                let mut wqkv = get(&format!("{p}.self_attn.q_proj.weight"));
                wqkv.extend(get(&format!("{p}.self_attn.k_proj.weight")));
                wqkv.extend(get(&format!("{p}.self_attn.v_proj.weight")));
                let mut w_gate_up = get(&format!("{p}.mlp.gate_proj.weight"));
                w_gate_up.extend(get(&format!("{p}.mlp.up_proj.weight")));
                LayerWeights {
                    attn_norm: parts.push(get(&format!("{p}.input_layernorm.weight"))),
                    wqkv: parts.push(wqkv),
                    wo: parts.push(get(&format!("{p}.self_attn.o_proj.weight"))),
                    ffn_norm: parts.push(get(&format!("{p}.post_attention_layernorm.weight"))),
                    w_gate_up: parts.push(w_gate_up),
                    w_down: parts.push(get(&format!("{p}.mlp.down_proj.weight"))),
                }
            })
            .collect();
        let final_norm = parts.push(get("model.norm.weight"));
        let lm_head = if config.tied_embeddings { embed.clone() } else { parts.push(get("lm_head.weight")) };
        let arena = parts.build();
        let (d, half) = (config.head_dim(), config.head_dim() / 2);
        let mut rope_cos = Vec::with_capacity(config.max_seq_len * half);
        let mut rope_sin = Vec::with_capacity(config.max_seq_len * half);
        for pos in 0..config.max_seq_len {
            for i in 0..half {
                let angle = pos as f64 * config.rope_theta.powf(-2.0 * i as f64 / d as f64);
                rope_cos.push(angle.cos() as f32);
                rope_sin.push(angle.sin() as f32);
            }
        }
        Ok(InferenceModel { config: config.clone(), arena, embed, layers, final_norm, lm_head, rope_cos, rope_sin })
    }

    /// Fresh decoding state (KV cache for `max_seq_len` positions).
    pub fn new_state(&self) -> InferenceState {
        let c = &self.config;
        let qkv = (c.n_heads + 2 * c.n_kv_heads) * c.head_dim();
        InferenceState {
            cache: KvCache::new(c.n_layers, c.max_seq_len, c.n_kv_heads, c.head_dim()),
            x: vec![0.0; c.dim],
            normed: vec![0.0; c.dim],
            qkv: vec![0.0; qkv],
            attn_out: vec![0.0; c.n_heads * c.head_dim()],
            scores: vec![0.0; c.n_heads * c.max_seq_len],
            gate_up: vec![0.0; 2 * c.hidden_dim],
            sublayer_out: vec![0.0; c.dim],
            logits: vec![0.0; c.vocab_size],
        }
    }

    /// Feeds `token` at the next position of `state` and returns the logits `[V]` for the
    /// token after it. Uses the decoding team (all cores) when no other sequence holds it.
    pub fn step<'s>(&self, state: &'s mut InferenceState, token: u32) -> Result<&'s [f32]> {
        with_team(|team| self.step_on(state, token, team))
    }

    /// [`InferenceModel::step`] on the given team, or on this thread alone with `None` (what
    /// sequences decoded side by side use).
    pub fn step_on<'s>(&self, state: &'s mut InferenceState, token: u32, team: Option<&Team>) -> Result<&'s [f32]> {
        let c = &self.config;
        let pos = state.cache.len();
        if pos >= c.max_seq_len {
            return Err(ModelError::config(
                "max_seq_len",
                format!("sequence is longer than {} positions", c.max_seq_len),
            ));
        }
        if token as usize >= c.vocab_size {
            return Err(ModelError::config("vocab_size", format!("token id {token} ≥ vocab size {}", c.vocab_size)));
        }
        let (dim, d) = (c.dim, c.head_dim());
        let (q_dim, kv_dim) = (c.n_heads * d, c.kv_dim());
        let eps = c.norm_eps as f32;
        let s = state;
        let w = &*self.arena;
        let embed = &w[self.embed.clone()];
        s.x.copy_from_slice(&embed[token as usize * dim..(token as usize + 1) * dim]);

        for (l, layer) in self.layers.iter().enumerate() {
            // attention: x += Wo · attend(rope(Wq·n), cache ∪ rope(Wk·n), cache ∪ Wv·n)
            rms_norm(&s.x, &w[layer.attn_norm.clone()], eps, &mut s.normed);
            matvec(&w[layer.wqkv.clone()], &s.normed, &mut s.qkv, team);
            let (q, kv) = s.qkv.split_at_mut(q_dim);
            let (k, v) = kv.split_at_mut(kv_dim);
            self.rope(q, pos);
            self.rope(k, pos);
            s.cache.write(l, pos, k, v);
            self.attend(l, pos, q, &s.cache, &mut s.scores, &mut s.attn_out, team);
            matvec(&w[layer.wo.clone()], &s.attn_out, &mut s.sublayer_out, team);
            s.x.iter_mut().zip(&s.sublayer_out).for_each(|(x, o)| *x += o);

            // SwiGLU: x += W_down · (silu(W_gate·n) · W_up·n)
            rms_norm(&s.x, &w[layer.ffn_norm.clone()], eps, &mut s.normed);
            matvec(&w[layer.w_gate_up.clone()], &s.normed, &mut s.gate_up, team);
            let (gate, up) = s.gate_up.split_at_mut(c.hidden_dim);
            swiglu(gate, up);
            matvec(&w[layer.w_down.clone()], gate, &mut s.sublayer_out, team);
            s.x.iter_mut().zip(&s.sublayer_out).for_each(|(x, o)| *x += o);
        }
        s.cache.advance();

        rms_norm(&s.x, &w[self.final_norm.clone()], eps, &mut s.normed);
        matvec(&w[self.lm_head.clone()], &s.normed, &mut s.logits, team);
        Ok(&s.logits)
    }

    /// Rotates interleaved pairs of every head of `x` `[n·D]` to position `pos`.
    fn rope(&self, x: &mut [f32], pos: usize) {
        let half = self.config.head_dim() / 2;
        let (cos, sin) = (&self.rope_cos[pos * half..(pos + 1) * half], &self.rope_sin[pos * half..(pos + 1) * half]);
        for head in x.chunks_exact_mut(2 * half) {
            for (pair, (&c, &s)) in head.chunks_exact_mut(2).zip(cos.iter().zip(sin)) {
                let (a, b) = (pair[0], pair[1]);
                pair[0] = a * c - b * s;
                pair[1] = a * s + b * c;
            }
        }
    }

    /// Fused attention of one query token over positions `0..=pos` of the cache, per head:
    /// scores = q·k/√D, softmax, weighted sum of v. Query head h reads kv head h/(H/KV).
    /// `scores` is `[H, S]` scratch, `out` `[H·D]`; heads are split across the team once
    /// the cache is long enough to pay for the hand-over.
    #[allow(clippy::too_many_arguments)]
    fn attend(
        &self,
        layer: usize,
        pos: usize,
        q: &[f32],
        cache: &KvCache,
        scores: &mut [f32],
        out: &mut [f32],
        team: Option<&Team>,
    ) {
        let c = &self.config;
        let (d, group, s_max) = (c.head_dim(), c.n_heads / c.n_kv_heads, c.max_seq_len);
        let (keys, values) = cache.layer(layer);
        let scale = 1.0 / (d as f32).sqrt();
        let head = |h: usize, out_h: &mut [f32], scores_h: &mut [f32]| {
            // kv head h/group's blocks: keys `[D, S]`, values `[S, D]`
            let block = (h / group) * s_max * d..(h / group + 1) * s_max * d;
            let q_h = &q[h * d..(h + 1) * d];
            attend_head(q_h, &keys[block.clone()], &values[block], s_max, scale, &mut scores_h[..=pos], out_h);
        };
        match team {
            Some(team) if (pos + 1) * d * c.n_heads >= 1 << 13 => {
                let (out, scores) = (Disjoint::new(out), Disjoint::new(scores));
                team.for_chunks(c.n_heads, 1, &|heads| {
                    // SAFETY: the head ranges of one `for_chunks` call are disjoint, and so
                    // are the element ranges derived from them.
                    let (out, scores) = unsafe {
                        (
                            out.range_mut(heads.start * d..heads.end * d),
                            scores.range_mut(heads.start * s_max..heads.end * s_max),
                        )
                    };
                    for (i, (o, sc)) in out.chunks_mut(d).zip(scores.chunks_mut(s_max)).enumerate() {
                        head(heads.start + i, o, sc);
                    }
                });
            }
            _ => {
                for (h, (o, sc)) in out.chunks_mut(d).zip(scores.chunks_mut(s_max)).enumerate() {
                    head(h, o, sc);
                }
            }
        }
    }
}
