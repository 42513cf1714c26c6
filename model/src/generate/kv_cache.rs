//! The key/value cache: every layer's keys and values of the positions seen so far, so
//! each new token attends to the past without recomputing it.

/// Keys and values `[L, S, KV·D]` (S = max_seq_len), preallocated once; `len` positions
/// are valid.
pub struct KvCache {
    keys: Vec<f32>,
    values: Vec<f32>,
    /// KV·D floats per position.
    kv_dim: usize,
    max_seq_len: usize,
    len: usize,
}

impl KvCache {
    pub fn new(n_layers: usize, max_seq_len: usize, kv_dim: usize) -> Self {
        let n = n_layers * max_seq_len * kv_dim;
        KvCache { keys: vec![0.0; n], values: vec![0.0; n], kv_dim, max_seq_len, len: 0 }
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

    fn span(&self, layer: usize) -> std::ops::Range<usize> {
        let per_layer = self.max_seq_len * self.kv_dim;
        layer * per_layer..(layer + 1) * per_layer
    }

    /// The key and value slots `[KV·D]` of `layer` at `pos`, for writing.
    pub(crate) fn slot_mut(&mut self, layer: usize, pos: usize) -> (&mut [f32], &mut [f32]) {
        let start = self.span(layer).start + pos * self.kv_dim;
        let range = start..start + self.kv_dim;
        (&mut self.keys[range.clone()], &mut self.values[range])
    }

    /// Keys and values `[S, KV·D]` of `layer` (positions ≥ the current one are stale).
    pub(crate) fn layer(&self, layer: usize) -> (&[f32], &[f32]) {
        let span = self.span(layer);
        (&self.keys[span.clone()], &self.values[span])
    }
}
