//! Fused AdamW update, in place.

use rayon::prelude::*;

use super::simd::{as_f32, as_f32_mut, simd_kernel};
use crate::{AdamWParams, Float};

/// Elements per parallel task.
const CHUNK: usize = 8192;

/// The per-step constants of the update, already converted to the element type.
#[derive(Clone, Copy)]
struct Consts<T> {
    decay: T,
    b1: T,
    b2: T,
    one_b1: T,
    one_b2: T,
    step_size: T,
    inv_sqrt_bc2: T,
    eps: T,
}

impl<T: Float> Consts<T> {
    fn new(hp: AdamWParams) -> Self {
        let t = hp.step.max(1) as i32;
        let bc1 = 1.0 - hp.beta1.powi(t);
        let bc2 = 1.0 - hp.beta2.powi(t);
        Consts {
            decay: T::from_f64_lossy(1.0 - hp.lr * hp.weight_decay),
            b1: T::from_f64_lossy(hp.beta1),
            b2: T::from_f64_lossy(hp.beta2),
            one_b1: T::from_f64_lossy(1.0 - hp.beta1),
            one_b2: T::from_f64_lossy(1.0 - hp.beta2),
            step_size: T::from_f64_lossy(hp.lr / bc1),
            inv_sqrt_bc2: T::from_f64_lossy(1.0 / bc2.sqrt()),
            eps: T::from_f64_lossy(hp.eps),
        }
    }
}

/// The update of one chunk, for either float type (inlined into each SIMD instantiation).
#[inline(always)]
fn update<T: Float>(p: &mut [T], g: &[T], m: &mut [T], v: &mut [T], k: Consts<T>) {
    for (((p, &g), m), v) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
        *m = k.b1 * *m + k.one_b1 * g;
        *v = k.b2 * *v + k.one_b2 * g * g;
        *p = *p * k.decay - k.step_size * *m / ((*v).sqrt() * k.inv_sqrt_bc2 + k.eps);
    }
}

simd_kernel! {
    fn update_f32(p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], k: Consts<f32>) {
        update(p, g, m, v, k)
    }
}

/// One AdamW step on equal-length buffers, PyTorch's formulation:
/// `p -= lr·wd·p; m = β1 m + (1-β1) g; v = β2 v + (1-β2) g²;
///  p -= lr · (m / (1-β1^t)) / (sqrt(v / (1-β2^t)) + eps)`.
pub fn adamw<T: Float>(p: &mut [T], g: &[T], m: &mut [T], v: &mut [T], hp: AdamWParams) {
    let (k, k32) = (Consts::<T>::new(hp), Consts::<f32>::new(hp));
    p.par_chunks_mut(CHUNK)
        .zip(g.par_chunks(CHUNK))
        .zip(m.par_chunks_mut(CHUNK))
        .zip(v.par_chunks_mut(CHUNK))
        .for_each(|(((p, g), m), v)| {
            if let (Some(p), Some(g), Some(m), Some(v)) = (as_f32_mut(p), as_f32(g), as_f32_mut(m), as_f32_mut(v)) {
                update_f32(p, g, m, v, k32);
            } else {
                update(p, g, m, v, k);
            }
        });
}
