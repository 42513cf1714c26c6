//! Reductions over one axis (sum, max) and the composites built on them.

use crate::{backend, ReduceOp, Tensor};

impl Tensor {
    /// Reduces `axis`; keeps it as size 1 when `keepdim`.
    #[track_caller]
    pub fn reduce(&self, op: ReduceOp, axis: usize, keepdim: bool) -> Tensor {
        assert!(axis < self.rank(), "{op:?}: axis {axis} out of range for shape {:?}", self.shape());
        let shape = self.shape();
        let outer: usize = shape[..axis].iter().product();
        let inner: usize = shape[axis + 1..].iter().product();
        let mut out_shape = shape.to_vec();
        if keepdim {
            out_shape[axis] = 1;
        } else {
            out_shape.remove(axis);
        }
        backend::reduce(op, self, outer, shape[axis], inner, &out_shape)
    }

    /// Sum over `axis`.
    #[track_caller]
    pub fn sum(&self, axis: usize, keepdim: bool) -> Tensor {
        self.reduce(ReduceOp::Sum, axis, keepdim)
    }

    /// Max over `axis`.
    #[track_caller]
    pub fn max(&self, axis: usize, keepdim: bool) -> Tensor {
        self.reduce(ReduceOp::Max, axis, keepdim)
    }

    /// Mean over `axis` (a sum and a scale).
    #[track_caller]
    pub fn mean(&self, axis: usize, keepdim: bool) -> Tensor {
        let n = self.shape()[axis].max(1) as f64;
        self.sum(axis, keepdim).scale(1.0 / n)
    }

    /// Sum of every element, as a rank-0 tensor.
    pub fn sum_all(&self) -> Tensor {
        self.reshape(&[self.numel()]).sum(0, false)
    }

    /// Sums a broadcast result back down to `shape` (the backward of broadcasting).
    #[track_caller]
    pub fn sum_to(&self, shape: &[usize]) -> Tensor {
        if self.shape() == shape {
            return self.clone();
        }
        assert!(shape.len() <= self.rank(), "sum_to: cannot reduce {:?} to {shape:?}", self.shape());
        let lead = self.rank() - shape.len();
        let mut t = self.clone();
        for _ in 0..lead {
            t = t.sum(0, false);
        }
        for (axis, &d) in shape.iter().enumerate() {
            if d == 1 && t.shape()[axis] != 1 {
                t = t.sum(axis, true);
            }
        }
        assert_eq!(t.shape(), shape, "sum_to: cannot reduce {:?} to {shape:?}", self.shape());
        t
    }
}
