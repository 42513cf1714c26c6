//! Global-norm gradient clipping (the paper clips at 1.0).

use llamaforge_autograd::Var;

/// `sqrt(Σ_p Σ g_p²)` over every parameter's accumulated gradient, in f64.
pub fn global_grad_norm(params: &[Var]) -> f64 {
    params.iter().filter_map(|p| p.grad()).map(|g| g.square().sum_all().to_scalar()).sum::<f64>().sqrt()
}

/// The factor to multiply gradients by so their global norm is at most `max_norm`
/// (PyTorch's `clip_grad_norm_`: `max_norm / (norm + 1e-6)`, capped at 1).
pub fn clip_scale(norm: f64, max_norm: f64) -> f64 {
    if !norm.is_finite() {
        return 1.0;
    }
    (max_norm / (norm + 1e-6)).min(1.0)
}
