//! Selection and indexing ops. Index tensors (u32) are plain `Tensor`s: they take no
//! gradient.

use llamaforge_engine::{Op, Tensor};

use crate::Var;

impl Var {
    /// `cond > 0 ? a : b` (cond is a constant mask).
    #[track_caller]
    pub fn where_cond(cond: &Tensor, a: &Var, b: &Var) -> Var {
        let (va, vb) = (a.value(), b.value());
        let y = Tensor::where_cond(cond, &va, &vb);
        let cond = cond.clone();
        Var::from_op(Op::Where, y, &[a, b], move |g| {
            let zero = Tensor::zeros(&[], g.dtype());
            let ga = Tensor::where_cond(&cond, g, &zero);
            let gb = g.sub(&ga);
            vec![Some(ga.sum_to(va.shape())), Some(gb.sum_to(vb.shape()))]
        })
    }

    /// `self[.., ids[..]]` over the last dim; backward scatters through a one-hot.
    #[track_caller]
    pub fn gather(&self, ids: &Tensor) -> Var {
        let x = self.value();
        let classes = *x.shape().last().unwrap_or(&1);
        let ids = ids.clone();
        let dtype = x.dtype();
        Var::from_op(Op::Gather, x.gather(&ids), &[self], move |g| {
            vec![Some(Tensor::one_hot(&ids, classes, dtype).mul(&g.unsqueeze(g.rank())))]
        })
    }

    /// Embedding lookup: rows of a `[R, C]` table; backward is scatter_add.
    #[track_caller]
    pub fn index_select(&self, ids: &Tensor) -> Var {
        let rows = self.shape()[0];
        let ids = ids.clone();
        Var::from_op(Op::IndexSelect, self.value().index_select(&ids), &[self], move |g| {
            vec![Some(g.scatter_add(&ids, rows))]
        })
    }

    /// `[.., C]` rows added into `[rows, C]` at `ids`; backward is index_select.
    #[track_caller]
    pub fn scatter_add(&self, ids: &Tensor, rows: usize) -> Var {
        let shape = self.shape();
        let ids = ids.clone();
        Var::from_op(Op::ScatterAdd, self.value().scatter_add(&ids, rows), &[self], move |g| {
            vec![Some(g.index_select(&ids).reshape(&shape))]
        })
    }

    /// Joins along `axis`; backward narrows the gradient back into parts.
    #[track_caller]
    pub fn concat(parts: &[Var], axis: usize) -> Var {
        let values: Vec<Tensor> = parts.iter().map(|p| p.value()).collect();
        let sizes: Vec<usize> = values.iter().map(|v| v.shape()[axis]).collect();
        let refs: Vec<&Var> = parts.iter().collect();
        Var::from_op(Op::Concat, Tensor::concat(&values, axis), &refs, move |g| {
            let mut start = 0;
            sizes
                .iter()
                .map(|&n| {
                    let part = g.narrow(axis, start, n).contiguous();
                    start += n;
                    Some(part)
                })
                .collect()
        })
    }
}
