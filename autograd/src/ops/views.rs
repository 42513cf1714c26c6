//! Views and `contiguous`: backward rules move the gradient back to the input's layout.

use llamaforge_engine::{Op, Tensor};

use crate::Var;

impl Var {
    /// Reshape; backward reshapes the gradient back.
    pub fn reshape(&self, shape: &[usize]) -> Var {
        let input_shape = self.shape();
        Var::from_op(Op::Reshape, self.value().reshape(shape), &[self], move |g| vec![Some(g.reshape(&input_shape))])
    }

    /// Permute; backward applies the inverse permutation.
    pub fn permute(&self, dims: &[usize]) -> Var {
        let mut inverse = vec![0; dims.len()];
        for (i, &d) in dims.iter().enumerate() {
            inverse[d] = i;
        }
        Var::from_op(Op::Permute, self.value().permute(dims), &[self], move |g| vec![Some(g.permute(&inverse))])
    }

    /// Transpose of two dims (a permute).
    pub fn transpose(&self, a: usize, b: usize) -> Var {
        let mut dims: Vec<usize> = (0..self.shape().len()).collect();
        dims.swap(a, b);
        self.permute(&dims)
    }

    /// Broadcast; backward sums over the stretched dims.
    pub fn broadcast_to(&self, shape: &[usize]) -> Var {
        let input_shape = self.shape();
        Var::from_op(Op::BroadcastTo, self.value().broadcast_to(shape), &[self], move |g| {
            vec![Some(g.sum_to(&input_shape))]
        })
    }

    /// `start..start+len` along `axis`; backward pads the gradient with zeros.
    pub fn narrow(&self, axis: usize, start: usize, len: usize) -> Var {
        let input_shape = self.shape();
        Var::from_op(Op::Narrow, self.value().narrow(axis, start, len), &[self], move |g| {
            let zeros_of = |n: usize| {
                let mut s = input_shape.clone();
                s[axis] = n;
                Tensor::zeros(&s, g.dtype())
            };
            let tail = input_shape[axis] - start - len;
            let mut all = Vec::with_capacity(3);
            if start > 0 {
                all.push(zeros_of(start));
            }
            all.push(g.clone());
            if tail > 0 {
                all.push(zeros_of(tail));
            }
            vec![Some(Tensor::concat(&all, axis))]
        })
    }

    /// Inserts a size-1 dim (a reshape).
    pub fn unsqueeze(&self, axis: usize) -> Var {
        let mut shape = self.shape();
        shape.insert(axis, 1);
        self.reshape(&shape)
    }

    /// Contiguous copy; the gradient passes through.
    pub fn contiguous(&self) -> Var {
        Var::from_op(Op::Contiguous, self.value().contiguous(), &[self], |g| vec![Some(g.clone())])
    }
}
