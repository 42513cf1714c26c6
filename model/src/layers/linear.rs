//! Bias-free linear map in the HF convention: `y = x · Wᵀ`, W stored `[out, in]`.

use llamaforge_autograd::Var;

/// `x` `[.., in]`, `weight` `[out, in]` → `[.., out]`. The leading dims are flattened into
/// one GEMM; `Wᵀ` is a strided view, not a copy.
pub fn linear(x: &Var, weight: &Var) -> Var {
    let shape = x.shape();
    let (rows, inner) = (shape[..shape.len() - 1].iter().product::<usize>(), shape[shape.len() - 1]);
    let out = weight.shape()[0];
    let y = x.reshape(&[rows, inner]).matmul(&weight.transpose(0, 1));
    let mut out_shape = shape;
    *out_shape.last_mut().expect("linear: x has rank ≥ 1") = out;
    y.reshape(&out_shape)
}
