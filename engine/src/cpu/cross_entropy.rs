//! Fused log-softmax + negative log-likelihood with an ignore index.

use rayon::prelude::*;

use super::simd::as_f32;
use super::softmax::{logsumexp_row_f32, scaled_softmax};
use crate::Float;

/// `logits` is `[N, V]` contiguous, `targets` is `[N]`. Returns the mean over rows whose
/// target is not `ignore_index` of `logsumexp(row) - row[target]` (0 when every row is
/// ignored), and the number of counted rows.
#[track_caller]
pub fn cross_entropy<T: Float>(logits: &[T], v: usize, targets: &[u32], ignore_index: u32) -> (T, usize) {
    for (i, &t) in targets.iter().enumerate() {
        assert!(
            t == ignore_index || (t as usize) < v,
            "cross_entropy: target {t} at position {i} is out of range for {v} classes"
        );
    }
    let logits_f32 = as_f32(logits);
    // per-row losses in parallel, summed in a fixed order afterwards: a parallel `reduce`
    // would associate differently from run to run, and resumed training must reproduce
    // the uninterrupted run's losses bit for bit
    let losses: Vec<f64> = logits
        .par_chunks(v.max(1))
        .zip(targets.par_iter())
        .enumerate()
        .filter(|(_, (_, &t))| t != ignore_index)
        .map(|(r, (row, &t))| {
            // per-row losses are summed in f64 so the mean over many rows keeps f32 accuracy
            let loss = match logits_f32 {
                Some(x) => {
                    let row = &x[r * v..(r + 1) * v];
                    (logsumexp_row_f32(row) - row[t as usize]) as f64
                }
                None => {
                    let max = row.iter().fold(T::neg_infinity(), |m, &x| m.max(x));
                    let sum: T = row.iter().map(|&x| (x - max).exp()).sum();
                    (max + sum.ln() - row[t as usize]).to_f64().unwrap_or(f64::NAN)
                }
            };
            loss
        })
        .collect();
    let (sum, count) = (losses.iter().sum::<f64>(), losses.len());
    let mean = if count == 0 { 0.0 } else { sum / count as f64 };
    (T::from_f64_lossy(mean), count)
}

/// The gradient of the mean cross-entropy w.r.t. `logits` `[N, V]`, times the upstream
/// scalar `grad`: `(softmax(row) − onehot(target)) · grad / count` for counted rows, 0 for
/// rows whose target is `ignore_index`. One output buffer, written by the vectorized
/// softmax and adjusted in place (the composite needs five `[N, V]` temporaries).
pub fn cross_entropy_backward<T: Float>(
    logits: &[T],
    v: usize,
    targets: &[u32],
    ignore_index: u32,
    grad: f64,
) -> Vec<T> {
    let count = targets.iter().filter(|&&t| t != ignore_index).count();
    if count == 0 || v == 0 {
        return vec![T::zero(); logits.len()];
    }
    // (softmax − onehot) · g / count, the softmax pass already scaled; ignored rows are
    // zeroed after (scaling them by 0 would turn an infinite logit into NaN)
    let scale = T::from_f64_lossy(grad / count as f64);
    let mut out = scaled_softmax(logits, v, None, |r| if targets[r] == ignore_index { T::zero() } else { scale });
    out.par_chunks_mut(v).zip(targets.par_iter()).for_each(|(row, &t)| {
        if t == ignore_index {
            row.iter_mut().for_each(|x| *x = T::zero());
        } else {
            row[t as usize] -= scale;
        }
    });
    out
}
