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
pub fn token_log_probs(logits: &Var, ids: &Tensor) -> Var {
    let s = logits.shape();
    let (b, t) = (s[0], s[1]);
    let next = ids.narrow(1, 1, t - 1).contiguous(); // [B, T-1]
    logits.narrow(1, 0, t - 1).log_softmax().gather(&next).reshape(&[b, t - 1])
}
