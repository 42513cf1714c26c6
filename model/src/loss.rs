//! Next-token losses over `[B, T, V]` logits, with a per-token mask, and per-token log-probs
//! (what SFT, GAtt and PPO build on).

use llamaforge_autograd::Var;
use llamaforge_engine::Tensor;

/// Target id that contributes no loss.
pub const IGNORE_INDEX: u32 = u32::MAX;

/// Targets for next-token prediction: position t of `ids` `[B, T]` predicts `ids[t+1]`.
/// Returns u32 `[B, T-1]`; where `mask` `[B, T]` is 0 at t+1 the target is [`IGNORE_INDEX`]
/// (a mask marks which tokens are *learned*, e.g. the assistant's answer).
pub fn next_token_targets(ids: &[Vec<u32>], mask: Option<&[Vec<bool>]>) -> Tensor {
    let b = ids.len();
    let t = ids.first().map_or(0, Vec::len);
    let mut targets = Vec::with_capacity(b * t.saturating_sub(1));
    for (row, seq) in ids.iter().enumerate() {
        assert_eq!(seq.len(), t, "next_token_targets: row {row} has length {}, row 0 has {t}", seq.len());
        for pos in 1..t {
            let learned = mask.is_none_or(|m| m[row][pos]);
            targets.push(if learned { seq[pos] } else { IGNORE_INDEX });
        }
    }
    Tensor::from_vec(targets, &[b, t.saturating_sub(1)])
}

/// Mean cross-entropy of `logits` `[B, T, V]` at positions 0..T-1 against `targets`
/// u32 `[B, T-1]` (see [`next_token_targets`]), skipping [`IGNORE_INDEX`]. Rank-0.
pub fn next_token_loss(logits: &Var, targets: &Tensor) -> Var {
    let s = logits.shape();
    let (b, t, v) = (s[0], s[1], s[2]);
    let predicting = logits.narrow(1, 0, t - 1).reshape(&[b * (t - 1), v]); // [B·(T-1), V]
    predicting.cross_entropy(&targets.reshape(&[b * (t - 1)]), IGNORE_INDEX)
}

/// Log-probability of each next token: `logits` `[B, T, V]`, `ids` u32 `[B, T]` →
/// `[B, T-1]` with entry t = log p(ids[t+1] | ids[..=t]). Differentiable (PPO's ratio).
/// The simple composite over whole logits, kept as the oracle of
/// [`lm_head_token_log_probs`] (which [`crate::Llama::token_log_probs`] uses).
pub fn token_log_probs(logits: &Var, ids: &Tensor) -> Var {
    let s = logits.shape();
    let (b, t) = (s[0], s[1]);
    let next = ids.narrow(1, 1, t - 1).contiguous(); // [B, T-1]
    logits.narrow(1, 0, t - 1).log_softmax().gather(&next).reshape(&[b, t - 1])
}

/// On a GPU, at most this many logits (64 MiB of f32) exist at once in [`lm_head_loss`]:
/// a `[B·T, V]` logits tensor of the 15M preset at batch 128×256 would be 4.2 GB, more than
/// any GPU storage binding holds (128 MiB on some drivers, under 4 GiB on all).
pub const LM_HEAD_CHUNK_ELEMS: usize = 1 << 24;

/// The `max_logits` of [`lm_head_loss`] for a model on `device`: unlimited on the CPU
/// (chunking measured no faster there and the whole logits fit in memory), and
/// [`LM_HEAD_CHUNK_ELEMS`] on a GPU.
pub fn lm_head_chunk_for(device: llamaforge_engine::Device) -> usize {
    match device {
        llamaforge_engine::Device::Cpu => usize::MAX,
        _ => LM_HEAD_CHUNK_ELEMS,
    }
}

/// Mean next-token cross-entropy of the LM head `weight` `[V, C]` applied to final hidden
/// states `hidden` `[N, C]`, against u32 `targets` `[N]` (skipping [`IGNORE_INDEX`]).
/// The rows are processed in chunks of at most `max_logits / V` rows, each chunk's mean
/// weighted by its share of the counted targets, so the result (and its gradient) equals
/// `linear(hidden, weight).cross_entropy(targets)` without ever materializing all
/// `[N, V]` logits.
pub fn lm_head_loss(hidden: &Var, weight: &Var, targets: &Tensor, max_logits: usize) -> Var {
    let (n, v) = (hidden.shape()[0], weight.shape()[0]);
    let total = Tensor::count_not_ignored(targets, IGNORE_INDEX);
    if n.saturating_mul(v) <= max_logits || total == 0 {
        return crate::layers::linear(hidden, weight).cross_entropy(targets, IGNORE_INDEX);
    }
    let rows = (max_logits / v).max(1);
    let mut loss: Option<Var> = None;
    for start in (0..n).step_by(rows) {
        let len = rows.min(n - start);
        let chunk_targets = targets.narrow(0, start, len).contiguous();
        let counted = Tensor::count_not_ignored(&chunk_targets, IGNORE_INDEX);
        if counted == 0 {
            continue;
        }
        let logits = crate::layers::linear(&hidden.narrow(0, start, len), weight); // [len, V]
        let part = logits.cross_entropy(&chunk_targets, IGNORE_INDEX).scale(counted as f64 / total as f64);
        loss = Some(match loss {
            Some(acc) => acc.add(&part),
            None => part,
        });
    }
    loss.expect("total > 0, so some chunk counted")
}

/// `log softmax(hidden · weightᵀ)[n, targets[n]]` for every row: final hidden states
/// `hidden` `[N, C]`, LM head `weight` `[V, C]`, u32 `targets` `[N]` (each < V; there is no
/// ignore index: a row without a target is simply not passed) → `[N]`. Differentiable.
/// Rows go through the head in chunks of at most `max_logits / V` rows (see
/// [`lm_head_chunk_for`]), so no `[N, V]` logits tensor is ever built in one piece; under
/// `no_grad` at most one chunk's logits are alive at a time.
pub fn lm_head_token_log_probs(hidden: &Var, weight: &Var, targets: &Tensor, max_logits: usize) -> Var {
    let (n, v) = (hidden.shape()[0], weight.shape()[0]);
    assert_eq!(
        targets.shape(),
        [n],
        "lm_head_token_log_probs: targets {:?} for hidden {:?}",
        targets.shape(),
        hidden.shape()
    );
    let rows = (max_logits / v).max(1);
    let chunk = |start: usize, len: usize| {
        let logits = crate::layers::linear(&hidden.narrow(0, start, len), weight); // [len, V]
        logits.log_softmax().gather(&targets.narrow(0, start, len).contiguous())
        // [len]
    };
    if n <= rows {
        return chunk(0, n);
    }
    let parts: Vec<Var> = (0..n).step_by(rows).map(|start| chunk(start, rows.min(n - start))).collect();
    Var::concat(&parts, 0)
}
