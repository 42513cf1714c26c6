//! Finite-difference gradient checking: the oracle every backward rule is tested against.
//!
//! For a function `f` of some f64 input tensors, the scalar `L = Σ f(x) · R` with a fixed
//! random `R` is differentiated two ways — by `backward()` and by central differences
//! `(L(x + h) − L(x − h)) / 2h` on every input element — and the largest elementwise
//! relative error `|a − n| / max(|a|, |n|, floor)` is reported.

use llamaforge_engine::{DType, Tensor};

use crate::{no_grad, Var};

/// Settings of a check.
#[derive(Clone, Copy, Debug)]
pub struct GradCheck {
    /// Finite-difference step.
    pub step: f64,
    /// Denominator floor, so gradients that are ~0 are compared absolutely.
    pub floor: f64,
    /// Seed of the random projection `R`.
    pub seed: u64,
}

impl Default for GradCheck {
    fn default() -> Self {
        GradCheck { step: 1e-6, floor: 1e-3, seed: 7 }
    }
}

/// Outcome of a check: the worst relative error and where it happened.
#[derive(Clone, Debug)]
pub struct GradCheckReport {
    pub max_rel_err: f64,
    /// (input index, flat element index, analytic, numeric) of the worst element.
    pub worst: (usize, usize, f64, f64),
}

impl GradCheck {
    /// Checks the gradients of `f` w.r.t. every input marked in `differentiable`.
    /// Inputs must be f64 (the check is meaningless in f32).
    pub fn run(&self, inputs: &[Tensor], differentiable: &[bool], f: &dyn Fn(&[Var]) -> Var) -> GradCheckReport {
        assert_eq!(inputs.len(), differentiable.len(), "gradcheck: one flag per input");
        for t in inputs.iter().zip(differentiable).filter(|(_, &d)| d).map(|(t, _)| t) {
            assert_eq!(t.dtype(), DType::F64, "gradcheck: differentiable inputs must be f64");
        }
        let make_vars = |ts: &[Tensor]| -> Vec<Var> {
            ts.iter()
                .zip(differentiable)
                .map(|(t, &d)| if d { Var::leaf(t.clone()) } else { Var::constant(t.clone()) })
                .collect()
        };
        let vars = make_vars(inputs);
        let y = f(&vars);
        let r = Tensor::randn(&y.shape(), 1.0, DType::F64, self.seed);
        let project = |y: &Var| y.mul(&Var::constant(r.clone())).sum_all();
        project(&y).backward();

        let loss_at = |ts: &[Tensor]| no_grad(|| project(&f(&make_vars(ts))).value().to_scalar());
        let mut report = GradCheckReport { max_rel_err: 0.0, worst: (0, 0, 0.0, 0.0) };
        for (i, var) in vars.iter().enumerate() {
            if !differentiable[i] {
                continue;
            }
            let analytic = var.grad().map(|g| g.to_vec_f64()).unwrap_or_else(|| vec![0.0; inputs[i].numel()]);
            let base = inputs[i].to_vec_f64();
            let shape = inputs[i].shape().to_vec();
            for j in 0..base.len() {
                let mut shifted = inputs.to_vec();
                let mut plus = base.clone();
                plus[j] += self.step;
                shifted[i] = Tensor::from_vec(plus, &shape);
                let l_plus = loss_at(&shifted);
                let mut minus = base.clone();
                minus[j] -= self.step;
                shifted[i] = Tensor::from_vec(minus, &shape);
                let l_minus = loss_at(&shifted);
                let numeric = (l_plus - l_minus) / (2.0 * self.step);
                let a = analytic[j];
                let err = (a - numeric).abs() / a.abs().max(numeric.abs()).max(self.floor);
                if err > report.max_rel_err || err.is_nan() {
                    report = GradCheckReport { max_rel_err: err, worst: (i, j, a, numeric) };
                }
            }
        }
        report
    }
}
