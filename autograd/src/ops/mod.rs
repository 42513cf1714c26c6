//! Differentiable ops on `Var`: each forward sits beside its backward rule, and backward
//! rules are written with public engine ops so they run on every backend.

mod attention;
mod elementwise;
mod fused;
mod index;
mod matmul;
mod reduce;
mod views;
