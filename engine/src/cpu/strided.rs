//! Strided access: turning any layout into rows of the last dimension, in parallel.

use rayon::prelude::*;

use crate::Layout;

/// Rows below this many elements in total are not worth splitting across threads.
pub const PAR_MIN_ELEMS: usize = 1 << 15;

/// Maps a row number (row-major over all but the last dim) to its storage offset.
pub struct RowIndexer {
    outer_shape: Vec<usize>,
    outer_strides: Vec<usize>,
    offset: usize,
    /// Length of a row (the last dim; 1 for rank 0).
    pub len: usize,
    /// Stride between elements of a row.
    pub inner_stride: usize,
    /// Number of rows.
    pub rows: usize,
}

impl RowIndexer {
    pub fn new(layout: &Layout) -> Self {
        let rank = layout.rank();
        if rank == 0 {
            return RowIndexer {
                outer_shape: vec![],
                outer_strides: vec![],
                offset: layout.offset(),
                len: 1,
                inner_stride: 1,
                rows: 1,
            };
        }
        let outer_shape = layout.shape()[..rank - 1].to_vec();
        RowIndexer {
            rows: outer_shape.iter().product(),
            outer_strides: layout.strides()[..rank - 1].to_vec(),
            outer_shape,
            offset: layout.offset(),
            len: layout.shape()[rank - 1],
            inner_stride: layout.strides()[rank - 1],
        }
    }

    /// Storage offset of the first element of row `r`.
    #[inline]
    pub fn base(&self, mut r: usize) -> usize {
        let mut off = self.offset;
        for d in (0..self.outer_shape.len()).rev() {
            let n = self.outer_shape[d];
            off += (r % n) * self.outer_strides[d];
            r /= n;
        }
        off
    }
}

/// Copies any layout of `src` into a new contiguous row-major vector.
pub fn to_contiguous<T: Copy + Send + Sync + Default>(src: &[T], layout: &Layout) -> Vec<T> {
    if let Some(range) = layout.contiguous_range() {
        return src[range].to_vec();
    }
    let ix = RowIndexer::new(layout);
    let mut out = vec![T::default(); layout.numel()];
    if ix.len == 0 {
        return out;
    }
    let fill = |(r, row): (usize, &mut [T])| {
        let base = ix.base(r);
        for (i, o) in row.iter_mut().enumerate() {
            *o = src[base + i * ix.inner_stride];
        }
    };
    if out.len() >= PAR_MIN_ELEMS {
        out.par_chunks_mut(ix.len).enumerate().for_each(fill);
    } else {
        out.chunks_mut(ix.len).enumerate().for_each(fill);
    }
    out
}

/// Borrowed contiguous data when possible, else a contiguous copy.
pub fn contiguous_cow<'a, T: Copy + Send + Sync + Default>(src: &'a [T], layout: &Layout) -> std::borrow::Cow<'a, [T]> {
    match layout.contiguous_range() {
        Some(range) => std::borrow::Cow::Borrowed(&src[range]),
        None => std::borrow::Cow::Owned(to_contiguous(src, layout)),
    }
}
