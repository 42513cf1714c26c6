//! Elementwise ops: unary with scalar parameters, binary with numpy broadcasting.

use crate::layout::broadcast_shapes;
use crate::{backend, BinaryOp, Tensor, UnaryOp};

impl Tensor {
    /// Applies a unary op elementwise.
    pub fn unary(&self, op: UnaryOp) -> Tensor {
        backend::unary(op, self)
    }

    /// Applies a binary op with numpy broadcasting; panics naming both shapes if they do not
    /// broadcast or the dtypes differ.
    #[track_caller]
    pub fn binary(&self, op: BinaryOp, rhs: &Tensor) -> Tensor {
        let name = op.op().name();
        assert_eq!(self.dtype(), rhs.dtype(), "{name}: dtype mismatch, lhs {} vs rhs {}", self.dtype(), rhs.dtype());
        // a `match`, not `unwrap_or_else`: closures do not inherit #[track_caller]
        let Some(shape) = broadcast_shapes(self.shape(), rhs.shape()) else {
            panic!("{name}: shapes {:?} and {:?} do not broadcast", self.shape(), rhs.shape())
        };
        backend::binary(op, &self.broadcast_to(&shape), &rhs.broadcast_to(&shape))
    }

    pub fn neg(&self) -> Tensor {
        self.unary(UnaryOp::Neg)
    }
    pub fn exp(&self) -> Tensor {
        self.unary(UnaryOp::Exp)
    }
    pub fn log(&self) -> Tensor {
        self.unary(UnaryOp::Log)
    }
    pub fn sqrt(&self) -> Tensor {
        self.unary(UnaryOp::Sqrt)
    }
    pub fn recip(&self) -> Tensor {
        self.unary(UnaryOp::Recip)
    }
    pub fn square(&self) -> Tensor {
        self.unary(UnaryOp::Square)
    }
    pub fn sigmoid(&self) -> Tensor {
        self.unary(UnaryOp::Sigmoid)
    }
    pub fn silu(&self) -> Tensor {
        self.unary(UnaryOp::Silu)
    }
    pub fn tanh(&self) -> Tensor {
        self.unary(UnaryOp::Tanh)
    }
    pub fn relu(&self) -> Tensor {
        self.unary(UnaryOp::Relu)
    }
    pub fn log_sigmoid(&self) -> Tensor {
        self.unary(UnaryOp::LogSigmoid)
    }
    /// `self * mul + add`.
    pub fn affine(&self, mul: f64, add: f64) -> Tensor {
        self.unary(UnaryOp::Affine { mul, add })
    }
    /// `self * s`.
    pub fn scale(&self, s: f64) -> Tensor {
        self.affine(s, 0.0)
    }
    pub fn clamp(&self, lo: f64, hi: f64) -> Tensor {
        self.unary(UnaryOp::Clamp { lo, hi })
    }
    pub fn powf(&self, p: f64) -> Tensor {
        self.unary(UnaryOp::Powf(p))
    }

    #[track_caller]
    pub fn add(&self, rhs: &Tensor) -> Tensor {
        self.binary(BinaryOp::Add, rhs)
    }
    #[track_caller]
    pub fn sub(&self, rhs: &Tensor) -> Tensor {
        self.binary(BinaryOp::Sub, rhs)
    }
    #[track_caller]
    pub fn mul(&self, rhs: &Tensor) -> Tensor {
        self.binary(BinaryOp::Mul, rhs)
    }
    #[track_caller]
    pub fn div(&self, rhs: &Tensor) -> Tensor {
        self.binary(BinaryOp::Div, rhs)
    }
    #[track_caller]
    pub fn maximum(&self, rhs: &Tensor) -> Tensor {
        self.binary(BinaryOp::Maximum, rhs)
    }
    #[track_caller]
    pub fn minimum(&self, rhs: &Tensor) -> Tensor {
        self.binary(BinaryOp::Minimum, rhs)
    }
}
