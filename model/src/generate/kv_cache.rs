//! The key/value cache: every layer's keys and values of the positions seen so far, so
//! each new token attends to the past without recomputing it.

/// Keys `[L, KV, D, S]` and values `[L, KV, S, D]` (S = max_seq_len), preallocated once;
/// `len` positions are valid. Head-major, so one head's cache is one contiguous block that
/// attention streams front to back; the keys are stored transposed so the scores of all
/// positions come out of D vectorized multiply-adds along S (a dot product per position
/// spent most of its time in the horizontal sum).
pub struct KvCache {
    keys: Vec<f32>,
    values: Vec<f32>,
    n_kv_heads: usize,
    head_dim: usize,
    max_seq_len: usize,
    len: usize,
}

impl KvCache {
    pub fn new(n_layers: usize, max_seq_len: usize, n_kv_heads: usize, head_dim: usize) -> Self {
        let n = n_layers * n_kv_heads * max_seq_len * head_dim;
        KvCache { keys: vec![0.0; n], values: vec![0.0; n], n_kv_heads, head_dim, max_seq_len, len: 0 }
    }

    /// Positions currently cached.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn max_seq_len(&self) -> usize {
        self.max_seq_len
    }

    /// Forgets every position (the buffers are kept for the next sequence).
    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// Marks one more position as valid (after every layer has written it).
    pub(crate) fn advance(&mut self) {
        self.len += 1;
    }

    /// Floats of one layer's keys (or values).
    fn per_layer(&self) -> usize {
        self.n_kv_heads * self.max_seq_len * self.head_dim
    }

    /// Stores `k` and `v` `[KV·D]` (heads side by side) of `layer` at `pos`.
    pub(crate) fn write(&mut self, layer: usize, pos: usize, k: &[f32], v: &[f32]) {
        let (d, s_max) = (self.head_dim, self.max_seq_len);
        let base = layer * self.per_layer();
        for (h, (k_h, v_h)) in k.chunks_exact(d).zip(v.chunks_exact(d)).enumerate() {
            let head = base + h * s_max * d;
            for (i, &x) in k_h.iter().enumerate() {
                self.keys[head + i * s_max + pos] = x;
            }
            self.values[head + pos * d..head + (pos + 1) * d].copy_from_slice(v_h);
        }
    }

    /// Keys `[KV, D, S]` and values `[KV, S, D]` of `layer` (positions ≥ the current one
    /// are stale).
    pub(crate) fn layer(&self, layer: usize) -> (&[f32], &[f32]) {
        let span = layer * self.per_layer()..(layer + 1) * self.per_layer();
        (&self.keys[span.clone()], &self.values[span])
    }
}
