//! `Layout`: how a tensor's logical shape maps onto its storage (shape, strides, offset).
//! Views (reshape, permute, transpose, broadcast, narrow) only build a new `Layout`; the
//! data is shared and never copied.

/// Shape, element strides and starting offset of a tensor over its storage.
///
/// A stride of 0 marks a broadcast dimension. Strides are in elements, row-major when
/// contiguous: the last dimension has stride 1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    shape: Vec<usize>,
    strides: Vec<usize>,
    offset: usize,
}

/// Row-major strides of a contiguous tensor of `shape`.
pub fn contiguous_strides(shape: &[usize]) -> Vec<usize> {
    let mut strides = vec![1; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        strides[i] = strides[i + 1] * shape[i + 1];
    }
    strides
}

/// The numpy-style broadcast of two shapes, or `None` if they are incompatible.
pub fn broadcast_shapes(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let rank = a.len().max(b.len());
    let mut out = vec![0; rank];
    for i in 0..rank {
        let da = if i + a.len() >= rank { a[i + a.len() - rank] } else { 1 };
        let db = if i + b.len() >= rank { b[i + b.len() - rank] } else { 1 };
        out[i] = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => return None,
        };
    }
    Some(out)
}

impl Layout {
    /// A contiguous row-major layout of `shape` starting at offset 0.
    pub fn contiguous(shape: &[usize]) -> Self {
        Layout { shape: shape.to_vec(), strides: contiguous_strides(shape), offset: 0 }
    }

    /// Builds a layout from raw parts (the caller guarantees it stays inside the storage).
    pub fn from_parts(shape: Vec<usize>, strides: Vec<usize>, offset: usize) -> Self {
        assert_eq!(shape.len(), strides.len(), "Layout: shape and strides differ in rank");
        Layout { shape, strides, offset }
    }

    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    pub fn strides(&self) -> &[usize] {
        &self.strides
    }

    pub fn offset(&self) -> usize {
        self.offset
    }

    pub fn rank(&self) -> usize {
        self.shape.len()
    }

    /// Number of logical elements.
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }

    /// True when the elements are laid out row-major without gaps (size-1 dims ignored).
    pub fn is_contiguous(&self) -> bool {
        let mut expected = 1;
        for (&d, &s) in self.shape.iter().zip(&self.strides).rev() {
            if d != 1 && s != expected {
                return false;
            }
            expected *= d;
        }
        true
    }

    /// The contiguous range of storage this layout covers, if it is contiguous.
    pub fn contiguous_range(&self) -> Option<std::ops::Range<usize>> {
        self.is_contiguous().then(|| self.offset..self.offset + self.numel())
    }

    /// Reorders the dimensions: new dim `i` is old dim `dims[i]`.
    #[track_caller]
    pub fn permute(&self, dims: &[usize]) -> Layout {
        let mut seen = vec![false; self.rank()];
        assert!(
            dims.len() == self.rank()
                && dims.iter().all(|&d| d < self.rank() && !std::mem::replace(&mut seen[d], true)),
            "permute: {dims:?} is not a permutation of the {} dims of shape {:?}",
            self.rank(),
            self.shape
        );
        Layout {
            shape: dims.iter().map(|&d| self.shape[d]).collect(),
            strides: dims.iter().map(|&d| self.strides[d]).collect(),
            offset: self.offset,
        }
    }

    /// Swaps two dimensions.
    #[track_caller]
    pub fn transpose(&self, a: usize, b: usize) -> Layout {
        let mut dims: Vec<usize> = (0..self.rank()).collect();
        assert!(
            a < self.rank() && b < self.rank(),
            "transpose: dims ({a}, {b}) out of range for shape {:?}",
            self.shape
        );
        dims.swap(a, b);
        self.permute(&dims)
    }

    /// Broadcasts to `shape` (numpy rules: leading dims are added, size-1 dims stretch).
    #[track_caller]
    pub fn broadcast_to(&self, shape: &[usize]) -> Layout {
        assert!(
            shape.len() >= self.rank(),
            "broadcast_to: cannot broadcast shape {:?} to lower-rank shape {shape:?}",
            self.shape
        );
        let lead = shape.len() - self.rank();
        let mut strides = vec![0; shape.len()];
        for i in 0..self.rank() {
            let (from, to) = (self.shape[i], shape[lead + i]);
            strides[lead + i] = if from == to {
                self.strides[i]
            } else if from == 1 {
                0
            } else {
                panic!("broadcast_to: cannot broadcast shape {:?} to shape {shape:?}", self.shape)
            };
        }
        Layout { shape: shape.to_vec(), strides, offset: self.offset }
    }

    /// The sub-range `start..start + len` of dimension `axis`.
    #[track_caller]
    pub fn narrow(&self, axis: usize, start: usize, len: usize) -> Layout {
        assert!(
            axis < self.rank() && start + len <= self.shape[axis],
            "narrow: axis {axis}, range {start}..{} out of bounds for shape {:?}",
            start + len,
            self.shape
        );
        let mut shape = self.shape.clone();
        shape[axis] = len;
        Layout { shape, strides: self.strides.clone(), offset: self.offset + start * self.strides[axis] }
    }

    /// A reshape of a contiguous layout; `None` if the layout is not contiguous.
    #[track_caller]
    pub fn reshape(&self, shape: &[usize]) -> Option<Layout> {
        assert_eq!(
            self.numel(),
            shape.iter().product::<usize>(),
            "reshape: cannot reshape {:?} ({} elements) to {shape:?}",
            self.shape,
            self.numel()
        );
        self.is_contiguous().then(|| Layout {
            shape: shape.to_vec(),
            strides: contiguous_strides(shape),
            offset: self.offset,
        })
    }

    /// Calls `f(storage_offset)` for every element in row-major logical order.
    pub fn for_each_offset(&self, mut f: impl FnMut(usize)) {
        self.for_each_row(|base, inner_stride, len| {
            for i in 0..len {
                f(base + i * inner_stride);
            }
        });
    }

    /// Calls `f(base_offset, inner_stride, len)` for every row of the last dimension, in
    /// row-major order. A rank-0 tensor is one row of length 1.
    pub fn for_each_row(&self, mut f: impl FnMut(usize, usize, usize)) {
        if self.numel() == 0 {
            return;
        }
        let rank = self.rank();
        if rank == 0 {
            f(self.offset, 1, 1);
            return;
        }
        let (len, inner_stride) = (self.shape[rank - 1], self.strides[rank - 1]);
        let outer = &self.shape[..rank - 1];
        let mut index = vec![0usize; outer.len()];
        let mut base = self.offset;
        loop {
            f(base, inner_stride, len);
            // advance the multi-index over the outer dims, odometer style
            let mut d = outer.len();
            loop {
                if d == 0 {
                    return;
                }
                d -= 1;
                index[d] += 1;
                base += self.strides[d];
                if index[d] < outer[d] {
                    break;
                }
                base -= self.strides[d] * outer[d];
                index[d] = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transpose_and_offsets() {
        let l = Layout::contiguous(&[2, 3]).transpose(0, 1);
        let mut offs = vec![];
        l.for_each_offset(|o| offs.push(o));
        assert_eq!(offs, vec![0, 3, 1, 4, 2, 5]);
        assert!(!l.is_contiguous());
    }

    #[test]
    fn broadcast_and_narrow() {
        let l = Layout::contiguous(&[3, 1]).broadcast_to(&[2, 3, 4]);
        assert_eq!(l.strides(), &[0, 1, 0]);
        let n = Layout::contiguous(&[4, 5]).narrow(1, 2, 2);
        let mut offs = vec![];
        n.for_each_offset(|o| offs.push(o));
        assert_eq!(offs, vec![2, 3, 7, 8, 12, 13, 17, 18]);
        assert_eq!(broadcast_shapes(&[3, 1], &[4]), Some(vec![3, 4]));
        assert_eq!(broadcast_shapes(&[3], &[4]), None);
    }
}
