//! RoPE row layouts of the query/key projections.
//!
//! Meta and llama2.c rotate *interleaved* pairs `(2i, 2i+1)` of each head vector; HF
//! `transformers` rotates *halves* — element `j` with `j + D/2` ("rotate_half"). HF's
//! conversion script permutes the q/k rows of each head so both compute the same function;
//! these two functions are that permutation and its inverse. The engine's `rope` op is
//! interleaved, so HF rows are converted at load and back at save (also for gradients).

use llamaforge_engine::Tensor;

/// HF rotate-half rows → interleaved rows: `w` `[n·D, in]`; within each head, new row `2i`
/// = old row `i`, new row `2i+1` = old row `i + D/2`.
/// (`W.view(n, 2, D/2, in).transpose(1, 2).reshape(n·D, in)`.)
pub fn hf_to_interleaved(w: &Tensor, n_heads: usize) -> Tensor {
    let (rows, cols) = (w.shape()[0], w.shape()[1]);
    let d = rows / n_heads;
    w.reshape(&[n_heads, 2, d / 2, cols]).transpose(1, 2).reshape(&[rows, cols])
}

/// Interleaved rows → HF rotate-half rows (the inverse of [`hf_to_interleaved`]).
pub fn interleaved_to_hf(w: &Tensor, n_heads: usize) -> Tensor {
    let (rows, cols) = (w.shape()[0], w.shape()[1]);
    let d = rows / n_heads;
    w.reshape(&[n_heads, d / 2, 2, cols]).transpose(1, 2).reshape(&[rows, cols])
}

/// Heads of a tensor name if it is a query (`H`) or key (`KV`) projection, else `None`.
pub fn rope_heads(name: &str, n_heads: usize, n_kv_heads: usize) -> Option<usize> {
    if name.ends_with("self_attn.q_proj.weight") {
        Some(n_heads)
    } else if name.ends_with("self_attn.k_proj.weight") {
        Some(n_kv_heads)
    } else {
        None
    }
}
