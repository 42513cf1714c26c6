//! The LLaMA-2 model for training: token embedding → N blocks (RMSNorm, RoPE attention with
//! GQA, RMSNorm, SwiGLU) → final RMSNorm → LM head. One straight-down `forward`.

use std::collections::BTreeMap;

use llamaforge_autograd::Var;
use llamaforge_engine::{DType, Device, GpuError, Tensor};

use crate::config::Config;
use crate::error::{ModelError, Result};
use crate::heads::is_head;
use crate::layers::{linear, Attention, Block, KvTensors, Mlp, RmsNorm};
use crate::loss::{lm_head_token_log_probs, LM_HEAD_CHUNK_ELEMS};
use crate::weights::{check_weights, random_weights, weight_shapes, Weights};

/// A LLaMA-2 model whose parameters are named autograd leaves (HF names).
pub struct Llama {
    pub config: Config,
    /// `model.embed_tokens.weight` `[V, C]`
    pub embed_tokens: Var,
    pub layers: Vec<Block>,
    /// `model.norm.weight`
    pub norm: RmsNorm,
    /// `lm_head.weight` `[V, C]`, or `None` when tied to the embedding.
    pub lm_head: Option<Var>,
    /// Scalar heads by name (`score.weight`, `value_head.weight`), each `[1, C]`; see
    /// [`crate::heads`].
    pub heads: BTreeMap<String, Var>,
}

impl Llama {
    /// A model with HF-style random weights (see [`random_weights`]).
    pub fn new_random(config: &Config, seed: u64) -> Result<Llama> {
        config.validate()?;
        Llama::from_weights(config, random_weights(config, seed))
    }

    /// Builds the model from named weights (interleaved RoPE layout, any float dtype →
    /// f32), checking names and shapes against the config.
    pub fn from_weights(config: &Config, mut weights: Weights) -> Result<Llama> {
        config.validate()?;
        let head_names: Vec<String> = weights.keys().filter(|n| is_head(n)).cloned().collect();
        let mut head_values = BTreeMap::new();
        for name in head_names {
            let t = weights.remove(&name).expect("listed");
            if t.shape() != [1, config.dim] {
                return Err(ModelError::weight(
                    &name,
                    format!("shape {:?}, a head needs [1, {}]", t.shape(), config.dim),
                ));
            }
            head_values.insert(name, t);
        }
        check_weights(config, &mut weights)?;
        let mut param = |name: String| {
            let t = weights.remove(&name).expect("checked").to_dtype(DType::F32).contiguous();
            Var::parameter(name, t)
        };
        let eps = config.norm_eps;
        let embed_tokens = param("model.embed_tokens.weight".into());
        let layers = (0..config.n_layers)
            .map(|i| {
                let p = format!("model.layers.{i}");
                Block {
                    input_layernorm: RmsNorm { weight: param(format!("{p}.input_layernorm.weight")), eps },
                    self_attn: Attention {
                        q_proj: param(format!("{p}.self_attn.q_proj.weight")),
                        k_proj: param(format!("{p}.self_attn.k_proj.weight")),
                        v_proj: param(format!("{p}.self_attn.v_proj.weight")),
                        o_proj: param(format!("{p}.self_attn.o_proj.weight")),
                        n_heads: config.n_heads,
                        n_kv_heads: config.n_kv_heads,
                        head_dim: config.head_dim(),
                        rope_theta: config.rope_theta,
                    },
                    post_attention_layernorm: RmsNorm {
                        weight: param(format!("{p}.post_attention_layernorm.weight")),
                        eps,
                    },
                    mlp: Mlp {
                        gate_proj: param(format!("{p}.mlp.gate_proj.weight")),
                        up_proj: param(format!("{p}.mlp.up_proj.weight")),
                        down_proj: param(format!("{p}.mlp.down_proj.weight")),
                    },
                }
            })
            .collect();
        let norm = RmsNorm { weight: param("model.norm.weight".into()), eps };
        let lm_head = (!config.tied_embeddings).then(|| param("lm_head.weight".into()));
        let heads = head_values
            .into_iter()
            .map(|(name, t)| (name.clone(), Var::parameter(name, t.to_dtype(DType::F32).contiguous())))
            .collect();
        Ok(Llama { config: config.clone(), embed_tokens, layers, norm, lm_head, heads })
    }

    /// Final hidden states after the last RMSNorm: `ids` u32 `[B, T]` → `[B, T, C]`
    /// (the trunk a reward head sits on).
    pub fn hidden_states(&self, ids: &Tensor) -> Var {
        let mut x = self.embed_tokens.index_select(ids); // [B, T, C]
        for block in &self.layers {
            x = block.forward(&x, 0);
        }
        self.norm.forward(&x)
    }

    /// [`Llama::hidden_states`] of left-padded rows: `ids` u32 `[B, T]` where row `b`'s
    /// first `left_pad[b]` tokens are padding (any id) → `[B, T, C]`. Pads are masked out
    /// of attention and each row's positions start at 0 on its first real token, so every
    /// real token gets the hidden state (and gradient) of its row run alone, unpadded;
    /// the pads' own outputs are finite but meaningless. Panics unless `left_pad` has B
    /// entries, each ≤ T.
    #[track_caller]
    pub fn hidden_states_padded(&self, ids: &Tensor, left_pad: &[usize]) -> Var {
        let shape = ids.shape();
        assert!(shape.len() == 2, "hidden_states_padded: ids must be [B, T], got {shape:?}");
        assert_eq!(
            left_pad.len(),
            shape[0],
            "hidden_states_padded: left_pad has {} entries for {} rows",
            left_pad.len(),
            shape[0]
        );
        if let Some((row, &pad)) = left_pad.iter().enumerate().find(|(_, &p)| p > shape[1]) {
            panic!("hidden_states_padded: left_pad[{row}] = {pad} exceeds the {} positions", shape[1]);
        }
        let mut x = self.embed_tokens.index_select(ids); // [B, T, C]
        for block in &self.layers {
            x = block.forward_cached(&x, 0, Some(left_pad), None);
        }
        self.norm.forward(&x)
    }

    /// [`Llama::hidden_states`] of `ids` `[B, T]` continuing the positions in `cache`
    /// (which it extends): the KV-cached decoding path on whatever device the model is on.
    /// For inference (under `no_grad`): cached positions get no gradient.
    pub fn hidden_states_cached(&self, ids: &Tensor, cache: &mut KvTensors) -> Var {
        let pos = cache.len();
        let mut x = self.embed_tokens.index_select(ids); // [B, T, C]
        for (l, block) in self.layers.iter().enumerate() {
            x = block.forward_cached(&x, pos, None, Some((&mut *cache, l)));
        }
        cache.advance(ids.shape()[1]);
        self.norm.forward(&x)
    }

    /// Logits for every position: `ids` u32 `[B, T]` → `[B, T, V]`.
    pub fn forward(&self, ids: &Tensor) -> Var {
        let hidden = self.hidden_states(ids); // [B, T, C]
        linear(&hidden, self.output_weight()) // [B, T, V]
    }

    /// Log-probability of each next token under the model: `ids` u32 `[B, T]` (T ≥ 2) →
    /// `[B, T-1]`, entry t = log p(ids[t+1] | ids[..=t]). Differentiable (PPO's ratio and
    /// KL); the LM head runs in chunks of at most [`LM_HEAD_CHUNK_ELEMS`] logits
    /// ([`lm_head_token_log_probs`]) on every device, so with a large vocabulary no
    /// `[B·(T-1), V]` logits tensor is ever built — under `no_grad` (old-policy and
    /// reference log-probs) only one chunk's logits exist at a time; with gradients each
    /// chunk keeps its own for backward. Equal, up to f32 rounding, to the
    /// log-probs [`crate::generate::generate`] and [`crate::generate::score`] return.
    #[track_caller]
    pub fn token_log_probs(&self, ids: &Tensor) -> Var {
        let shape = ids.shape();
        assert!(shape.len() == 2 && shape[1] >= 2, "token_log_probs: ids must be [B, T] with T ≥ 2, got {shape:?}");
        let (b, t) = (shape[0], shape[1]);
        let hidden = self.hidden_states(&ids.narrow(1, 0, t - 1).contiguous()); // [B, T-1, C]
        let hidden = hidden.reshape(&[b * (t - 1), self.config.dim]);
        let targets = ids.narrow(1, 1, t - 1).contiguous().reshape(&[b * (t - 1)]);
        let max_logits = LM_HEAD_CHUNK_ELEMS;
        lm_head_token_log_probs(&hidden, self.output_weight(), &targets, max_logits).reshape(&[b, t - 1])
    }

    /// Logits of left-padded rows (see [`Llama::hidden_states_padded`]): `ids` u32
    /// `[B, T]`, `left_pad` B entries → `[B, T, V]`.
    #[track_caller]
    pub fn forward_padded(&self, ids: &Tensor, left_pad: &[usize]) -> Var {
        let hidden = self.hidden_states_padded(ids, left_pad); // [B, T, C]
        linear(&hidden, self.output_weight()) // [B, T, V]
    }

    /// The LM head matrix `[V, C]` (the embedding when tied).
    pub fn output_weight(&self) -> &Var {
        self.lm_head.as_ref().unwrap_or(&self.embed_tokens)
    }

    /// Adds (or replaces) the scalar head `name` (one of [`crate::heads::HEAD_NAMES`]) with
    /// `weight` `[1, C]`, on the model's device.
    pub fn set_head(&mut self, name: &str, weight: Tensor) -> Result<()> {
        if !is_head(name) {
            return Err(ModelError::weight(name, "not a known head name"));
        }
        if weight.shape() != [1, self.config.dim] {
            let msg = format!("shape {:?}, a head needs [1, {}]", weight.shape(), self.config.dim);
            return Err(ModelError::weight(name, msg));
        }
        let weight = weight
            .to_dtype(DType::F32)
            .contiguous()
            .to_device(self.device())
            .map_err(|e| ModelError::weight(name, e.to_string()))?;
        self.heads.insert(name.to_string(), Var::parameter(name, weight));
        Ok(())
    }

    /// The scalar head `name`, if the model has it.
    pub fn head(&self, name: &str) -> Option<&Var> {
        self.heads.get(name)
    }

    /// Freezes every parameter whose name `frozen` accepts and unfreezes the rest (see
    /// [`Var::set_requires_grad`]): a frozen parameter gets no gradient and
    /// [`Llama::trainable_parameters`] leaves it out, so the optimizer never sees it.
    pub fn freeze_where(&self, frozen: impl Fn(&str) -> bool) {
        for p in self.parameters() {
            p.set_requires_grad(!frozen(p.name().expect("parameters are named")));
        }
    }

    /// The parameters that take gradients (all of them unless some were frozen).
    pub fn trainable_parameters(&self) -> Vec<Var> {
        self.parameters().into_iter().filter(Var::requires_grad).collect()
    }

    /// Every parameter, in [`weight_shapes`] order (the tied head is not repeated), then
    /// the scalar heads by name.
    pub fn parameters(&self) -> Vec<Var> {
        let mut out = vec![self.embed_tokens.clone()];
        for b in &self.layers {
            let a = &b.self_attn;
            out.extend([
                b.input_layernorm.weight.clone(),
                a.q_proj.clone(),
                a.k_proj.clone(),
                a.v_proj.clone(),
                a.o_proj.clone(),
                b.post_attention_layernorm.weight.clone(),
                b.mlp.gate_proj.clone(),
                b.mlp.up_proj.clone(),
                b.mlp.down_proj.clone(),
            ]);
        }
        out.push(self.norm.weight.clone());
        out.extend(self.lm_head.clone());
        debug_assert_eq!(out.len(), weight_shapes(&self.config).len());
        out.extend(self.heads.values().cloned());
        out
    }

    /// The current parameter values by name (interleaved RoPE layout).
    pub fn weights(&self) -> Weights {
        self.parameters().iter().map(|p| (p.name().expect("parameters are named").to_string(), p.value())).collect()
    }

    /// Moves every parameter's value to `device` (gradients are cleared: they would live
    /// on the old device). Training and `forward` then run there; `weights()` and
    /// checkpoints read the values back to the host when they serialize them.
    pub fn to_device(&self, device: Device) -> std::result::Result<(), GpuError> {
        for p in self.parameters() {
            let moved = p.value().to_device(device)?;
            p.zero_grad();
            p.set_value(moved);
        }
        Ok(())
    }

    /// Where the parameters live (all on one device after [`Llama::to_device`]).
    pub fn device(&self) -> Device {
        self.embed_tokens.value().device()
    }

    /// The current parameter values by name, copied to the host (what checkpoints and the
    /// CPU inference path need when the model trains on a GPU).
    pub fn weights_on_cpu(&self) -> std::result::Result<Weights, GpuError> {
        self.weights().into_iter().map(|(name, t)| Ok((name, t.to_device(Device::Cpu)?))).collect()
    }

    /// Clears every parameter's gradient.
    pub fn zero_grad(&self) {
        self.parameters().iter().for_each(Var::zero_grad);
    }
}
