//! llamaforge-autograd: reverse-mode automatic differentiation over the engine.
//!
//! [`Var`] wraps a `Tensor` in a dynamic graph. Each op (in `ops/`) computes its forward
//! with engine ops and records a backward closure beside it; [`Var::backward`] walks the
//! graph in reverse topological order. [`no_grad`] turns recording off. [`gradcheck`] holds
//! the finite-difference checker the test suite is built on.

mod grad_mode;
pub mod gradcheck;
mod ops;
mod var;

pub use grad_mode::{is_grad_enabled, no_grad, NoGradGuard};
pub use var::{BackwardFn, Var};
