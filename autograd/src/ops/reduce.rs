//! Reductions: sum and max over an axis, and mean as a composite.

use llamaforge_engine::{Op, ReduceOp, Tensor};

use crate::Var;

impl Var {
    /// Sum over `axis`; backward broadcasts the gradient back over the axis.
    #[track_caller]
    pub fn sum(&self, axis: usize, keepdim: bool) -> Var {
        let shape = self.shape();
        Var::from_op(Op::Sum, self.value().reduce(ReduceOp::Sum, axis, keepdim), &[self], move |g| {
            let g = if keepdim { g.clone() } else { g.unsqueeze(axis) };
            vec![Some(g.broadcast_to(&shape).contiguous())]
        })
    }

    /// Max over `axis`; the gradient goes to the maximal entries.
    #[track_caller]
    pub fn max(&self, axis: usize, keepdim: bool) -> Var {
        let x = self.value();
        let m = x.reduce(ReduceOp::Max, axis, true);
        let y = if keepdim { m.clone() } else { m.squeeze(axis) };
        Var::from_op(Op::Max, y, &[self], move |g| {
            let g = if keepdim { g.clone() } else { g.unsqueeze(axis) };
            // 1 where x equals the max (m - x is 0 there, positive elsewhere)
            let is_max = Tensor::where_cond(&m.sub(&x), &Tensor::zeros(&[], x.dtype()), &Tensor::ones(&[], x.dtype()));
            vec![Some(is_max.mul(&g))]
        })
    }

    /// Mean over `axis`.
    #[track_caller]
    pub fn mean(&self, axis: usize, keepdim: bool) -> Var {
        let n = self.shape()[axis].max(1) as f64;
        self.sum(axis, keepdim).scale(1.0 / n)
    }

    /// Sum of all elements (rank 0).
    pub fn sum_all(&self) -> Var {
        self.reshape(&[self.shape().iter().product()]).sum(0, false)
    }

    /// Mean of all elements (rank 0).
    pub fn mean_all(&self) -> Var {
        let n = self.shape().iter().product::<usize>().max(1) as f64;
        self.sum_all().scale(1.0 / n)
    }
}
