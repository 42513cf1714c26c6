//! Global-norm gradient clipping (the paper clips at 1.0).

use llamaforge_autograd::Var;
use llamaforge_engine::Tensor;

/// `sqrt(Σ_p Σ g_p²)` over every parameter's accumulated gradient, in f64.
pub fn global_grad_norm(params: &[Var]) -> f64 {
    // one read for all parameters (on a GPU, a read per parameter would be a host round
    // trip each); the per-parameter sums are still added in f64 on the host
    let sums: Vec<Tensor> =
        params.iter().filter_map(|p| p.grad()).map(|g| g.square().sum_all().reshape(&[1])).collect();
    if sums.is_empty() {
        return 0.0;
    }
    Tensor::concat(&sums, 0).to_vec_f64().iter().sum::<f64>().sqrt()
}

/// The factor to multiply gradients by so their global norm is at most `max_norm`
/// (PyTorch's `clip_grad_norm_`: `max_norm / (norm + 1e-6)`, capped at 1).
pub fn clip_scale(norm: f64, max_norm: f64) -> f64 {
    if !norm.is_finite() {
        return 1.0;
    }
    (max_norm / (norm + 1e-6)).min(1.0)
}
