//! The op set as `Tensor` methods: shape checks (panicking with `#[track_caller]`, naming
//! the op and the shapes), broadcasting, then a call into `crate::backend`.

mod attention;
mod elementwise;
mod fused;
mod index;
mod matmul;
mod reduce;
