//! Selection and indexing kernels: where, gather, one_hot, index_select, scatter_add, concat.
//! Inputs are contiguous; index checks panic naming the op, the index and the bound.

use rayon::prelude::*;

use super::strided::PAR_MIN_ELEMS;
use crate::Float;

/// `cond > 0 ? a : b`, elementwise over equal-length contiguous inputs.
pub fn where_cond<T: Float>(cond: &[T], a: &[T], b: &[T]) -> Vec<T> {
    cond.iter().zip(a).zip(b).map(|((&c, &x), &y)| if c > T::zero() { x } else { y }).collect()
}

/// `x` is `[N, V]`, `ids` is `[N]` → `out[i] = x[i, ids[i]]`, shape `[N]`.
#[track_caller]
pub fn gather<T: Float>(x: &[T], v: usize, ids: &[u32]) -> Vec<T> {
    ids.iter()
        .enumerate()
        .map(|(i, &id)| {
            assert!((id as usize) < v, "gather: index {id} at position {i} is out of range for a last dim of {v}");
            x[i * v + id as usize]
        })
        .collect()
}

/// `ids` is `[N]` → `[N, V]` with a one at `(i, ids[i])`, zeros elsewhere.
#[track_caller]
pub fn one_hot<T: Float>(ids: &[u32], v: usize) -> Vec<T> {
    let mut out = vec![T::zero(); ids.len() * v];
    for (i, &id) in ids.iter().enumerate() {
        assert!((id as usize) < v, "one_hot: index {id} at position {i} is out of range for {v} classes");
        out[i * v + id as usize] = T::one();
    }
    out
}

/// `table` is `[R, C]`, `ids` is `[N]` → rows `table[ids[i]]`, shape `[N, C]` (embedding).
#[track_caller]
pub fn index_select<T: Float>(table: &[T], c: usize, ids: &[u32]) -> Vec<T> {
    let rows = table.len().checked_div(c).unwrap_or(0);
    for (i, &id) in ids.iter().enumerate() {
        assert!((id as usize) < rows, "index_select: index {id} at position {i} is out of range for {rows} rows");
    }
    let mut out = vec![T::zero(); ids.len() * c];
    if c == 0 {
        return out;
    }
    let copy = |(i, dst): (usize, &mut [T])| {
        let id = ids[i] as usize;
        dst.copy_from_slice(&table[id * c..(id + 1) * c]);
    };
    if out.len() >= PAR_MIN_ELEMS {
        out.par_chunks_mut(c).enumerate().for_each(copy);
    } else {
        out.chunks_mut(c).enumerate().for_each(copy);
    }
    out
}

/// `src` is `[N, C]`, `ids` is `[N]` → `[R, C]` zeros with `out[ids[i]] += src[i]` (the
/// backward of index_select).
#[track_caller]
pub fn scatter_add<T: Float>(src: &[T], c: usize, ids: &[u32], rows: usize) -> Vec<T> {
    let mut out = vec![T::zero(); rows * c];
    for (i, &id) in ids.iter().enumerate() {
        let id = id as usize;
        assert!(id < rows, "scatter_add: index {id} at position {i} is out of range for {rows} rows");
        for (o, &s) in out[id * c..(id + 1) * c].iter_mut().zip(&src[i * c..(i + 1) * c]) {
            *o += s;
        }
    }
    out
}

/// Concatenates contiguous parts along an axis. Each part is viewed as `[outer, width_i]`
/// where `width_i = axis_len_i * inner`; the output is `[outer, Σ width_i]`.
pub fn concat<T: Float>(parts: &[(&[T], usize)], outer: usize) -> Vec<T> {
    let total: usize = parts.iter().map(|p| p.1).sum();
    let mut out = vec![T::zero(); outer * total];
    if total == 0 {
        return out;
    }
    for (o, dst) in out.chunks_mut(total).enumerate() {
        let mut at = 0;
        for &(src, width) in parts {
            dst[at..at + width].copy_from_slice(&src[o * width..(o + 1) * width]);
            at += width;
        }
    }
    out
}
