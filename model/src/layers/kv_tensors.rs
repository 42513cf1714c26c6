//! The key/value cache of the tensor (any-device) decoding path: per layer, the rotated
//! keys and the values of every position fed so far, as engine tensors on the model's
//! device. `Llama::hidden_states_cached` appends to it; the CPU fast path has its own
//! flat-buffer cache (`generate/kv_cache.rs`).

use llamaforge_engine::Tensor;

/// Keys and values `[B, T, KV, D]` per layer; `len` = T positions cached.
pub struct KvTensors {
    layers: Vec<Option<(Tensor, Tensor)>>,
    len: usize,
}

impl KvTensors {
    /// An empty cache for a model of `n_layers` layers.
    pub fn new(n_layers: usize) -> KvTensors {
        KvTensors { layers: vec![None; n_layers], len: 0 }
    }

    /// Positions cached (the position of the next token fed).
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Records that `t` more positions went through every layer.
    pub(crate) fn advance(&mut self, t: usize) {
        self.len += t;
    }

    /// Appends `k` and `v` `[B, t, KV, D]` to `layer`'s cache and returns everything cached
    /// for it, `[B, len + t, KV, D]` each.
    pub(crate) fn extend(&mut self, layer: usize, k: Tensor, v: Tensor) -> (Tensor, Tensor) {
        let all = match self.layers[layer].take() {
            Some((k0, v0)) => (Tensor::concat(&[k0, k], 1), Tensor::concat(&[v0, v], 1)),
            None => (k, v),
        };
        self.layers[layer] = Some(all.clone());
        all
    }
}
