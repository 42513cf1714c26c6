//! Shared helpers of the integration tests.
#![allow(dead_code)]

pub mod blocks;

use llamaforge_engine::{DType, Tensor};

/// Seeded standard-normal f64 tensor.
pub fn randn(shape: &[usize], seed: u64) -> Tensor {
    Tensor::randn(shape, 1.0, DType::F64, seed)
}

/// Seeded f64 tensor with entries in `[lo, hi)`.
pub fn uniform(shape: &[usize], lo: f64, hi: f64, seed: u64) -> Tensor {
    Tensor::rand_uniform(shape, lo, hi, DType::F64, seed)
}

/// u32 index tensor.
pub fn ids(values: &[u32], shape: &[usize]) -> Tensor {
    Tensor::from_vec(values.to_vec(), shape)
}

/// Largest `|a - b|` over two equal-shape tensors.
#[track_caller]
pub fn max_abs_diff(a: &Tensor, b: &Tensor) -> f64 {
    assert_eq!(a.shape(), b.shape(), "max_abs_diff: shapes differ");
    a.to_vec_f64().iter().zip(b.to_vec_f64()).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

/// Largest `|a - b| / max(|b|, floor)`.
#[track_caller]
pub fn max_rel_diff(a: &Tensor, b: &Tensor, floor: f64) -> f64 {
    assert_eq!(a.shape(), b.shape(), "max_rel_diff: shapes differ");
    a.to_vec_f64().iter().zip(b.to_vec_f64()).map(|(x, y)| (x - y).abs() / y.abs().max(floor)).fold(0.0, f64::max)
}
