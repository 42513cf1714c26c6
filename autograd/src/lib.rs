//! llamaforge-autograd: reverse-mode automatic differentiation over the engine.
//!
//! [`Var`] wraps a `Tensor` in a dynamic graph. Each op (in `ops/`) computes its forward
//! with engine ops and records a backward closure beside it; [`Var::backward`] walks the
//! graph in reverse topological order. [`no_grad`] turns recording off. [`gradcheck`] holds
//! the finite-difference checker the test suite is built on.
//!
//! ```
//! use llamaforge_autograd::Var;
//! use llamaforge_engine::{DType, Tensor};
//!
//! // loss = Σ (x · w)², so dloss/dw = 2 xᵀ (x w)
//! let x = Var::constant(Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0], &[2, 2]));
//! let w = Var::parameter("w", Tensor::from_vec(vec![0.5f64, -1.0], &[2, 1]));
//! let loss = x.matmul(&w).square().sum_all();
//! loss.backward();
//! // x·w = [-1.5, -2.5]; 2 xᵀ (x w) = [2(1·-1.5 + 3·-2.5), 2(2·-1.5 + 4·-2.5)] = [-18, -26]
//! assert_eq!(w.grad().unwrap().to_vec::<f64>(), vec![-18.0, -26.0]);
//! assert_eq!(loss.value().to_scalar(), 8.5);
//! # let _ = DType::F64;
//! ```

mod grad_mode;
pub mod gradcheck;
mod ops;
mod var;

pub use grad_mode::{is_grad_enabled, no_grad, NoGradGuard};
pub use var::{BackwardFn, Var};
