//! The op set: one name per op, used by the CPU kernel, the WGSL entry point, the backward
//! rule and the gradient-check table. Adding a variant here without a gradcheck row fails
//! the coverage test in tests/gradcheck.rs.

use strum::{EnumCount, EnumIter, IntoStaticStr};

/// Every operation of the engine, by name.
///
/// Views (`Reshape`, `Permute`, `BroadcastTo`, `Narrow`) have no kernel — they only change
/// the layout — but they are differentiable, so they have backward rules and gradcheck rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, EnumCount, IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum Op {
    // views
    Reshape,
    Permute,
    BroadcastTo,
    Narrow,
    /// Materializes any layout as a contiguous buffer.
    Contiguous,
    // elementwise unary
    Neg,
    Exp,
    Log,
    Sqrt,
    Recip,
    Square,
    Sigmoid,
    Silu,
    Tanh,
    Relu,
    LogSigmoid,
    /// `x * mul + add` with scalar `mul`, `add`.
    Affine,
    /// `min(max(x, lo), hi)`.
    Clamp,
    /// `x ^ p` for a scalar `p`.
    Powf,
    // elementwise binary, broadcasting
    Add,
    Sub,
    Mul,
    Div,
    Maximum,
    Minimum,
    // reductions over one axis
    Sum,
    Max,
    // linear algebra
    Matmul,
    // selection and indexing
    Where,
    Gather,
    OneHot,
    IndexSelect,
    ScatterAdd,
    Concat,
    // fused kernels
    Softmax,
    LogSoftmax,
    CrossEntropy,
    /// The gradient of `CrossEntropy` w.r.t. the logits (checked against the composite).
    CrossEntropyBackward,
    RmsNorm,
    /// The gradients of `RmsNorm` w.r.t. x and the weight (checked against the composite).
    RmsNormBackward,
    Rope,
    #[strum(serialize = "swiglu")]
    SwiGlu,
    /// The gradients of `SwiGlu` w.r.t. both inputs (checked against the composite).
    #[strum(serialize = "swiglu_backward")]
    SwiGluBackward,
    /// Fused causal grouped-query attention (scores never materialized).
    Attention,
    /// The gradients of `Attention` w.r.t. q, k, v (checked against the composite).
    AttentionBackward,
    #[strum(serialize = "adamw")]
    AdamW,
}

impl Op {
    /// The snake_case name shared by kernel, shader entry point and gradcheck row.
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// Whether gradients flow through this op (`false` for index construction, the
    /// optimizer update and the fused backward kernels, which are checked against an
    /// oracle instead).
    pub fn is_differentiable(self) -> bool {
        !matches!(
            self,
            Op::OneHot
                | Op::AdamW
                | Op::AttentionBackward
                | Op::CrossEntropyBackward
                | Op::RmsNormBackward
                | Op::SwiGluBackward
        )
    }
}

/// Elementwise unary ops with their scalar parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum UnaryOp {
    Neg,
    Exp,
    Log,
    Sqrt,
    Recip,
    Square,
    Sigmoid,
    Silu,
    Tanh,
    Relu,
    LogSigmoid,
    Affine { mul: f64, add: f64 },
    Clamp { lo: f64, hi: f64 },
    Powf(f64),
}

impl UnaryOp {
    /// The op-set name of this unary op.
    pub fn op(self) -> Op {
        match self {
            UnaryOp::Neg => Op::Neg,
            UnaryOp::Exp => Op::Exp,
            UnaryOp::Log => Op::Log,
            UnaryOp::Sqrt => Op::Sqrt,
            UnaryOp::Recip => Op::Recip,
            UnaryOp::Square => Op::Square,
            UnaryOp::Sigmoid => Op::Sigmoid,
            UnaryOp::Silu => Op::Silu,
            UnaryOp::Tanh => Op::Tanh,
            UnaryOp::Relu => Op::Relu,
            UnaryOp::LogSigmoid => Op::LogSigmoid,
            UnaryOp::Affine { .. } => Op::Affine,
            UnaryOp::Clamp { .. } => Op::Clamp,
            UnaryOp::Powf(_) => Op::Powf,
        }
    }
}

/// Elementwise binary ops (numpy broadcasting).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Maximum,
    Minimum,
}

impl BinaryOp {
    /// The op-set name of this binary op.
    pub fn op(self) -> Op {
        match self {
            BinaryOp::Add => Op::Add,
            BinaryOp::Sub => Op::Sub,
            BinaryOp::Mul => Op::Mul,
            BinaryOp::Div => Op::Div,
            BinaryOp::Maximum => Op::Maximum,
            BinaryOp::Minimum => Op::Minimum,
        }
    }
}

/// Reductions over one axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReduceOp {
    Sum,
    Max,
}

/// Hyperparameters of one AdamW step (decoupled weight decay, bias-corrected moments).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamWParams {
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
    /// 1-based step number, for bias correction.
    pub step: u64,
}
