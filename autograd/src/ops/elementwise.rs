//! Elementwise unary and broadcasting binary ops with their backward rules.

use llamaforge_engine::{BinaryOp, Tensor, UnaryOp};

use crate::Var;

/// `cond > 0 ? g : 0`, the masked pass-through used by relu, clamp, max and min.
fn pass_where(cond: &Tensor, g: &Tensor) -> Tensor {
    Tensor::where_cond(cond, g, &Tensor::zeros(&[], g.dtype()))
}

impl Var {
    /// Applies a unary op; see the match below for each backward rule.
    pub fn unary(&self, op: UnaryOp) -> Var {
        let x = self.value();
        let y = x.unary(op);
        let y_saved = y.clone();
        Var::from_op(op.op(), y, &[self], move |g| {
            let (x, y) = (&x, &y_saved);
            let gx = match op {
                UnaryOp::Neg => g.neg(),
                UnaryOp::Exp => g.mul(y),
                UnaryOp::Log => g.div(x),
                UnaryOp::Sqrt => g.div(y).scale(0.5),
                UnaryOp::Recip => g.mul(&y.square()).neg(),
                UnaryOp::Square => g.mul(x).scale(2.0),
                UnaryOp::Sigmoid => g.mul(&y.mul(&y.affine(-1.0, 1.0))),
                // silu'(x) = σ(x) · (1 + x · (1 − σ(x)))
                UnaryOp::Silu => {
                    let s = x.sigmoid();
                    g.mul(&s.mul(&x.mul(&s.affine(-1.0, 1.0)).affine(1.0, 1.0)))
                }
                UnaryOp::Tanh => g.mul(&y.square().affine(-1.0, 1.0)),
                UnaryOp::Relu => pass_where(x, g),
                // d/dx log σ(x) = 1 − σ(x) = σ(−x)
                UnaryOp::LogSigmoid => g.mul(&x.neg().sigmoid()),
                UnaryOp::Affine { mul, .. } => g.scale(mul),
                UnaryOp::Clamp { lo, hi } => pass_where(&x.affine(1.0, -lo), &pass_where(&x.affine(-1.0, hi), g)),
                UnaryOp::Powf(p) => g.mul(&x.powf(p - 1.0)).scale(p),
            };
            vec![Some(gx)]
        })
    }

    /// Applies a broadcasting binary op; gradients are summed back to each input's shape.
    #[track_caller]
    pub fn binary(&self, op: BinaryOp, rhs: &Var) -> Var {
        let (a, b) = (self.value(), rhs.value());
        let y = a.binary(op, &b);
        Var::from_op(op.op(), y, &[self, rhs], move |g| {
            let (ga, gb) = match op {
                BinaryOp::Add => (g.clone(), g.clone()),
                BinaryOp::Sub => (g.clone(), g.neg()),
                BinaryOp::Mul => (g.mul(&b), g.mul(&a)),
                BinaryOp::Div => (g.div(&b), g.mul(&a).div(&b.square()).neg()),
                BinaryOp::Maximum => {
                    let ga = pass_where(&a.sub(&b), g);
                    let gb = g.sub(&ga);
                    (ga, gb)
                }
                BinaryOp::Minimum => {
                    let ga = pass_where(&b.sub(&a), g);
                    let gb = g.sub(&ga);
                    (ga, gb)
                }
            };
            vec![Some(ga.sum_to(a.shape())), Some(gb.sum_to(b.shape()))]
        })
    }

    pub fn neg(&self) -> Var {
        self.unary(UnaryOp::Neg)
    }
    pub fn exp(&self) -> Var {
        self.unary(UnaryOp::Exp)
    }
    pub fn log(&self) -> Var {
        self.unary(UnaryOp::Log)
    }
    pub fn sqrt(&self) -> Var {
        self.unary(UnaryOp::Sqrt)
    }
    pub fn recip(&self) -> Var {
        self.unary(UnaryOp::Recip)
    }
    pub fn square(&self) -> Var {
        self.unary(UnaryOp::Square)
    }
    pub fn sigmoid(&self) -> Var {
        self.unary(UnaryOp::Sigmoid)
    }
    pub fn silu(&self) -> Var {
        self.unary(UnaryOp::Silu)
    }
    pub fn tanh(&self) -> Var {
        self.unary(UnaryOp::Tanh)
    }
    pub fn relu(&self) -> Var {
        self.unary(UnaryOp::Relu)
    }
    pub fn log_sigmoid(&self) -> Var {
        self.unary(UnaryOp::LogSigmoid)
    }
    /// `self * mul + add`.
    pub fn affine(&self, mul: f64, add: f64) -> Var {
        self.unary(UnaryOp::Affine { mul, add })
    }
    /// `self * s`.
    pub fn scale(&self, s: f64) -> Var {
        self.affine(s, 0.0)
    }
    pub fn clamp(&self, lo: f64, hi: f64) -> Var {
        self.unary(UnaryOp::Clamp { lo, hi })
    }
    pub fn powf(&self, p: f64) -> Var {
        self.unary(UnaryOp::Powf(p))
    }
    #[track_caller]
    pub fn add(&self, rhs: &Var) -> Var {
        self.binary(BinaryOp::Add, rhs)
    }
    #[track_caller]
    pub fn sub(&self, rhs: &Var) -> Var {
        self.binary(BinaryOp::Sub, rhs)
    }
    #[track_caller]
    pub fn mul(&self, rhs: &Var) -> Var {
        self.binary(BinaryOp::Mul, rhs)
    }
    #[track_caller]
    pub fn div(&self, rhs: &Var) -> Var {
        self.binary(BinaryOp::Div, rhs)
    }
    #[track_caller]
    pub fn maximum(&self, rhs: &Var) -> Var {
        self.binary(BinaryOp::Maximum, rhs)
    }
    #[track_caller]
    pub fn minimum(&self, rhs: &Var) -> Var {
        self.binary(BinaryOp::Minimum, rhs)
    }
}
