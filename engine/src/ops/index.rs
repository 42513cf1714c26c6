//! Selection and indexing: where, gather, one_hot, index_select, scatter_add, concat.

use crate::layout::broadcast_shapes;
use crate::{backend, DType, Tensor};

impl Tensor {
    /// `cond > 0 ? a : b`, all three broadcast together; `cond` has the float dtype
    /// of `a` (a 0/1 mask, or any sign test such as `x - y`).
    #[track_caller]
    pub fn where_cond(cond: &Tensor, a: &Tensor, b: &Tensor) -> Tensor {
        let Some(shape) = broadcast_shapes(cond.shape(), a.shape()).and_then(|s| broadcast_shapes(&s, b.shape()))
        else {
            panic!("where: shapes {:?}, {:?}, {:?} do not broadcast", cond.shape(), a.shape(), b.shape())
        };
        backend::where_cond(&cond.broadcast_to(&shape), &a.broadcast_to(&shape), &b.broadcast_to(&shape))
    }

    /// `self` is `[.., V]`, `ids` (u32) is `[..]` → `self[.., ids[..]]`, shape `[..]`.
    #[track_caller]
    pub fn gather(&self, ids: &Tensor) -> Tensor {
        assert!(
            self.rank() >= 1 && ids.shape() == &self.shape()[..self.rank() - 1],
            "gather: ids of shape {:?} do not index the last dim of {:?}",
            ids.shape(),
            self.shape()
        );
        let ids = backend::ids_of("gather", ids);
        backend::gather(self, &ids, &self.shape()[..self.rank() - 1])
    }

    /// `ids` (u32) `[..]` → `[.., classes]` float one-hot rows.
    #[track_caller]
    pub fn one_hot(ids: &Tensor, classes: usize, dtype: DType) -> Tensor {
        let mut shape = ids.shape().to_vec();
        shape.push(classes);
        backend::one_hot(&backend::ids_of("one_hot", ids), classes, dtype, &shape)
    }

    /// `self` is a `[R, C]` table, `ids` (u32) `[..]` → rows `[.., C]` (embedding lookup).
    #[track_caller]
    pub fn index_select(&self, ids: &Tensor) -> Tensor {
        assert_eq!(self.rank(), 2, "index_select: table must be [R, C], got {:?}", self.shape());
        let mut shape = ids.shape().to_vec();
        shape.push(self.shape()[1]);
        backend::index_select(self, &backend::ids_of("index_select", ids), &shape)
    }

    /// `self` is `[.., C]`, `ids` (u32) `[..]` → `[rows, C]` zeros plus `self` rows added at
    /// `ids` (the backward of index_select).
    #[track_caller]
    pub fn scatter_add(&self, ids: &Tensor, rows: usize) -> Tensor {
        assert!(
            self.rank() >= 1 && ids.shape() == &self.shape()[..self.rank() - 1],
            "scatter_add: ids of shape {:?} do not match source rows of {:?}",
            ids.shape(),
            self.shape()
        );
        let c = *self.shape().last().unwrap();
        let src = self.reshape(&[ids.numel(), c]);
        backend::scatter_add(&src, &backend::ids_of("scatter_add", ids), rows)
    }

    /// Joins tensors along `axis`; all other dims must agree.
    #[track_caller]
    pub fn concat(parts: &[Tensor], axis: usize) -> Tensor {
        assert!(!parts.is_empty(), "concat: no tensors given");
        let first = parts[0].shape();
        assert!(axis < first.len(), "concat: axis {axis} out of range for shape {first:?}");
        let mut out_shape = first.to_vec();
        out_shape[axis] = 0;
        for p in parts {
            let s = p.shape();
            assert!(
                s.len() == first.len() && s.iter().zip(first).enumerate().all(|(i, (a, b))| i == axis || a == b),
                "concat: shape {s:?} does not match {first:?} outside axis {axis}"
            );
            assert_eq!(p.dtype(), parts[0].dtype(), "concat: dtype mismatch {} vs {}", p.dtype(), parts[0].dtype());
            out_shape[axis] += s[axis];
        }
        let outer: usize = first[..axis].iter().product();
        backend::concat(parts, outer, &out_shape)
    }
}
