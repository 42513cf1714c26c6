//! `Tensor`: a shape, strides and dtype over shared storage. Cloning a tensor or taking a
//! view shares the buffer; ops return new tensors.

use std::sync::Arc;

use rand::{Rng, SeedableRng};

use crate::{CpuStorage, DType, Device, Layout, Storage};

/// A host element type that can back a CPU tensor (f32, f64, u32).
pub trait Element: Copy + Send + Sync + 'static {
    const DTYPE: DType;
    fn into_storage(data: Vec<Self>) -> CpuStorage;
    fn slice(storage: &CpuStorage) -> Option<&[Self]>;
    fn slice_mut(storage: &mut CpuStorage) -> Option<&mut Vec<Self>>;
}

macro_rules! impl_element {
    ($t:ty, $variant:ident, $dtype:expr) => {
        impl Element for $t {
            const DTYPE: DType = $dtype;
            fn into_storage(data: Vec<Self>) -> CpuStorage {
                CpuStorage::$variant(data)
            }
            fn slice(storage: &CpuStorage) -> Option<&[Self]> {
                match storage {
                    CpuStorage::$variant(v) => Some(v),
                    _ => None,
                }
            }
            fn slice_mut(storage: &mut CpuStorage) -> Option<&mut Vec<Self>> {
                match storage {
                    CpuStorage::$variant(v) => Some(v),
                    _ => None,
                }
            }
        }
    };
}
impl_element!(f32, F32, DType::F32);
impl_element!(f64, F64, DType::F64);
impl_element!(u32, U32, DType::U32);

/// An n-dimensional array on a device.
#[derive(Clone, Debug)]
pub struct Tensor {
    storage: Arc<Storage>,
    layout: Layout,
}

impl Tensor {
    /// Wraps storage with a layout (the layout must stay inside the storage).
    pub fn from_storage(storage: Storage, layout: Layout) -> Self {
        Tensor { storage: Arc::new(storage), layout }
    }

    pub(crate) fn with_layout(&self, layout: Layout) -> Self {
        Tensor { storage: self.storage.clone(), layout }
    }

    /// A contiguous CPU tensor from a flat row-major vector.
    #[track_caller]
    pub fn from_vec<T: Element>(data: Vec<T>, shape: &[usize]) -> Self {
        assert_eq!(
            data.len(),
            shape.iter().product::<usize>(),
            "from_vec: {} elements do not fill shape {shape:?}",
            data.len()
        );
        Tensor::from_storage(Storage::Cpu(T::into_storage(data)), Layout::contiguous(shape))
    }

    /// A rank-0 tensor holding `value`.
    pub fn scalar(value: f64, dtype: DType) -> Self {
        Tensor::full(&[], value, dtype)
    }

    /// A tensor of `shape` filled with `value`.
    pub fn full(shape: &[usize], value: f64, dtype: DType) -> Self {
        let n = shape.iter().product();
        match dtype {
            DType::F32 => Tensor::from_vec(vec![value as f32; n], shape),
            DType::F64 => Tensor::from_vec(vec![value; n], shape),
            DType::U32 => Tensor::from_vec(vec![value as u32; n], shape),
        }
    }

    pub fn zeros(shape: &[usize], dtype: DType) -> Self {
        Tensor::full(shape, 0.0, dtype)
    }

    pub fn ones(shape: &[usize], dtype: DType) -> Self {
        Tensor::full(shape, 1.0, dtype)
    }

    /// Zeros of the same shape, dtype and device.
    pub fn zeros_like(&self) -> Self {
        Tensor::zeros(self.shape(), self.dtype())
    }

    /// Standard-normal samples scaled by `std`, from a seeded generator.
    pub fn randn(shape: &[usize], std: f64, dtype: DType, seed: u64) -> Self {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let n: usize = shape.iter().product();
        // Box-Muller: keeps the dependency list to `rand` alone.
        let data: Vec<f64> = (0..n)
            .map(|_| {
                let u1: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
                let u2: f64 = rng.random();
                std * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
            })
            .collect();
        Tensor::from_vec(data, shape).to_dtype(dtype)
    }

    /// Uniform samples in `[lo, hi)`, from a seeded generator.
    pub fn rand_uniform(shape: &[usize], lo: f64, hi: f64, dtype: DType, seed: u64) -> Self {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let n: usize = shape.iter().product();
        let data: Vec<f64> = (0..n).map(|_| rng.random_range(lo..hi)).collect();
        Tensor::from_vec(data, shape).to_dtype(dtype)
    }

    pub fn shape(&self) -> &[usize] {
        self.layout.shape()
    }

    /// Size of dimension `axis`.
    #[track_caller]
    pub fn dim(&self, axis: usize) -> usize {
        assert!(axis < self.rank(), "dim: axis {axis} out of range for shape {:?}", self.shape());
        self.shape()[axis]
    }

    pub fn rank(&self) -> usize {
        self.layout.rank()
    }

    pub fn numel(&self) -> usize {
        self.layout.numel()
    }

    pub fn dtype(&self) -> DType {
        self.storage.dtype()
    }

    pub fn device(&self) -> Device {
        self.storage.device()
    }

    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    pub fn storage(&self) -> &Storage {
        &self.storage
    }

    /// True if both tensors view the same buffer.
    pub fn same_storage(&self, other: &Tensor) -> bool {
        Arc::ptr_eq(&self.storage, &other.storage)
    }

    /// Mutable access to the storage when this tensor is its only owner and covers it
    /// contiguously from offset 0 (in-place updates such as AdamW); otherwise `None`.
    pub fn storage_mut(&mut self) -> Option<&mut Storage> {
        if self.layout.offset() != 0 || !self.layout.is_contiguous() || self.numel() != self.storage.len() {
            return None;
        }
        Arc::get_mut(&mut self.storage)
    }

    /// The elements in row-major order as a host vector of `T` (which must match the dtype).
    #[track_caller]
    pub fn to_vec<T: Element>(&self) -> Vec<T> {
        assert_eq!(T::DTYPE, self.dtype(), "to_vec: tensor is {}, asked for {}", self.dtype(), T::DTYPE);
        let t = self.contiguous();
        match t.storage.as_ref() {
            Storage::Cpu(s) => {
                T::slice(s).expect("dtype checked")[t.layout.offset()..t.layout.offset() + t.numel()].to_vec()
            }
            Storage::Gpu(g) => {
                let host = g.to_cpu();
                T::slice(&host).expect("dtype checked")[t.layout.offset()..t.layout.offset() + t.numel()].to_vec()
            }
        }
    }

    /// The elements converted to f64, row-major (any dtype).
    pub fn to_vec_f64(&self) -> Vec<f64> {
        match self.dtype() {
            DType::F32 => self.to_vec::<f32>().into_iter().map(f64::from).collect(),
            DType::F64 => self.to_vec::<f64>(),
            DType::U32 => self.to_vec::<u32>().into_iter().map(f64::from).collect(),
        }
    }

    /// The value of a one-element tensor.
    #[track_caller]
    pub fn to_scalar(&self) -> f64 {
        assert_eq!(self.numel(), 1, "to_scalar: tensor of shape {:?} is not a single value", self.shape());
        self.to_vec_f64()[0]
    }

    /// A contiguous slice of the data when the tensor is contiguous and on the CPU.
    pub fn as_slice<T: Element>(&self) -> Option<&[T]> {
        let range = self.layout.contiguous_range()?;
        match self.storage.as_ref() {
            Storage::Cpu(s) => T::slice(s).map(|v| &v[range]),
            Storage::Gpu(_) => None,
        }
    }

    // ---- views: new layout, same storage ----

    /// Same data, new shape. Views when contiguous, otherwise copies first.
    #[track_caller]
    pub fn reshape(&self, shape: &[usize]) -> Tensor {
        match self.layout.reshape(shape) {
            Some(layout) => self.with_layout(layout),
            None => {
                let c = self.contiguous();
                let layout = c.layout.reshape(shape).expect("contiguous");
                c.with_layout(layout)
            }
        }
    }

    /// Reorders dims: new dim `i` is old dim `dims[i]`.
    #[track_caller]
    pub fn permute(&self, dims: &[usize]) -> Tensor {
        self.with_layout(self.layout.permute(dims))
    }

    /// Swaps two dims.
    #[track_caller]
    pub fn transpose(&self, a: usize, b: usize) -> Tensor {
        self.with_layout(self.layout.transpose(a, b))
    }

    /// Broadcasts to `shape` without copying (stride 0 on stretched dims).
    #[track_caller]
    pub fn broadcast_to(&self, shape: &[usize]) -> Tensor {
        self.with_layout(self.layout.broadcast_to(shape))
    }

    /// `start..start+len` along `axis`, without copying.
    #[track_caller]
    pub fn narrow(&self, axis: usize, start: usize, len: usize) -> Tensor {
        self.with_layout(self.layout.narrow(axis, start, len))
    }

    /// Inserts a size-1 dim at `axis`.
    #[track_caller]
    pub fn unsqueeze(&self, axis: usize) -> Tensor {
        assert!(axis <= self.rank(), "unsqueeze: axis {axis} out of range for shape {:?}", self.shape());
        let mut shape = self.shape().to_vec();
        let mut strides = self.layout.strides().to_vec();
        let stride = if axis < self.rank() { strides[axis] * shape[axis] } else { 1 };
        shape.insert(axis, 1);
        strides.insert(axis, stride);
        self.with_layout(Layout::from_parts(shape, strides, self.layout.offset()))
    }

    /// Removes the size-1 dim at `axis`.
    #[track_caller]
    pub fn squeeze(&self, axis: usize) -> Tensor {
        assert!(
            axis < self.rank() && self.shape()[axis] == 1,
            "squeeze: dim {axis} of shape {:?} is not 1",
            self.shape()
        );
        let mut shape = self.shape().to_vec();
        let mut strides = self.layout.strides().to_vec();
        shape.remove(axis);
        strides.remove(axis);
        self.with_layout(Layout::from_parts(shape, strides, self.layout.offset()))
    }

    /// The tensor itself if contiguous, else a contiguous copy.
    pub fn contiguous(&self) -> Tensor {
        if self.layout.is_contiguous() {
            return self.clone();
        }
        crate::backend::contiguous(self)
    }

    /// Converts to another dtype (a copy; the identity when the dtype already matches).
    pub fn to_dtype(&self, dtype: DType) -> Tensor {
        if dtype == self.dtype() {
            return self.clone();
        }
        crate::backend::to_dtype(self, dtype)
    }
}
