//! Fused AdamW update, in place.

use rayon::prelude::*;

use crate::{AdamWParams, Float};

/// One AdamW step on equal-length buffers, PyTorch's formulation:
/// `p -= lr·wd·p; m = β1 m + (1-β1) g; v = β2 v + (1-β2) g²;
///  p -= lr · (m / (1-β1^t)) / (sqrt(v / (1-β2^t)) + eps)`.
pub fn adamw<T: Float>(p: &mut [T], g: &[T], m: &mut [T], v: &mut [T], hp: AdamWParams) {
    let t = hp.step.max(1) as i32;
    let bc1 = 1.0 - hp.beta1.powi(t);
    let bc2 = 1.0 - hp.beta2.powi(t);
    let decay = T::from_f64_lossy(1.0 - hp.lr * hp.weight_decay);
    let (b1, b2) = (T::from_f64_lossy(hp.beta1), T::from_f64_lossy(hp.beta2));
    let (one_b1, one_b2) = (T::from_f64_lossy(1.0 - hp.beta1), T::from_f64_lossy(1.0 - hp.beta2));
    let step_size = T::from_f64_lossy(hp.lr / bc1);
    let inv_sqrt_bc2 = T::from_f64_lossy(1.0 / bc2.sqrt());
    let eps = T::from_f64_lossy(hp.eps);
    const CHUNK: usize = 8192;
    p.par_chunks_mut(CHUNK)
        .zip(g.par_chunks(CHUNK))
        .zip(m.par_chunks_mut(CHUNK))
        .zip(v.par_chunks_mut(CHUNK))
        .for_each(|(((p, g), m), v)| {
            for (((p, &g), m), v) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
                *m = b1 * *m + one_b1 * g;
                *v = b2 * *v + one_b2 * g * g;
                *p = *p * decay - step_size * *m / ((*v).sqrt() * inv_sqrt_bc2 + eps);
            }
        });
}
