//! `GpuStorage`: a tensor's buffer on a GPU. The buffer goes back to its context's pool
//! when the last tensor viewing it is dropped.

use std::sync::Arc;

use super::pool::size_class;
use super::{GpuContext, GpuError};
use crate::{CpuStorage, DType, Device};

/// A pooled device buffer; returned to the pool on drop.
pub(crate) struct PooledBuffer {
    buffer: Option<wgpu::Buffer>,
    ctx: Arc<GpuContext>,
}

impl Drop for PooledBuffer {
    fn drop(&mut self) {
        if let Some(buf) = self.buffer.take() {
            self.ctx.pool.lock().expect("gpu pool poisoned").release(buf);
        }
    }
}

/// `len` elements of `dtype` (f32 or u32, 4 bytes each) in a device buffer.
#[derive(Clone)]
pub struct GpuStorage {
    buf: Arc<PooledBuffer>,
    dtype: DType,
    len: usize,
}

impl std::fmt::Debug for GpuStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GpuStorage(gpu:{}, {} x {})", self.buf.ctx.ordinal, self.len, self.dtype)
    }
}

impl GpuStorage {
    /// An uninitialized buffer of `len` elements (kernels write every element).
    #[track_caller]
    pub(crate) fn alloc(ctx: &Arc<GpuContext>, dtype: DType, len: usize) -> Self {
        let bytes = (len * 4) as u64;
        let limit = ctx.limits.max_storage_buffer_binding_size;
        if bytes > limit {
            panic!("{}", GpuError::TooLarge { bytes, limit });
        }
        assert!(len < u32::MAX as usize, "gpu: {len} elements exceed 32-bit indexing");
        debug_assert!(size_class(bytes) >= bytes);
        let buffer = ctx.pool.lock().expect("gpu pool poisoned").alloc(&ctx.device, bytes);
        GpuStorage { buf: Arc::new(PooledBuffer { buffer: Some(buffer), ctx: ctx.clone() }), dtype, len }
    }

    /// Copies host data to the device (f32 and u32 only).
    pub(crate) fn upload(ctx: &Arc<GpuContext>, data: &CpuStorage) -> Result<Self, GpuError> {
        let bytes: &[u8] = match data {
            CpuStorage::F32(v) => bytemuck::cast_slice(v),
            CpuStorage::U32(v) => bytemuck::cast_slice(v),
            CpuStorage::F64(_) => return Err(GpuError::UnsupportedDType(DType::F64)),
        };
        let limit = ctx.limits.max_storage_buffer_binding_size;
        if bytes.len() as u64 > limit {
            return Err(GpuError::TooLarge { bytes: bytes.len() as u64, limit });
        }
        let s = GpuStorage::alloc(ctx, data.dtype(), data.len());
        ctx.write(s.buffer(), bytes);
        Ok(s)
    }

    /// Reads the whole buffer back to the host (waits for the device).
    pub fn to_cpu(&self) -> CpuStorage {
        let bytes = self.buf.ctx.read(self.buffer(), (self.len * 4) as u64);
        match self.dtype {
            DType::F32 => CpuStorage::F32(bytemuck::pod_collect_to_vec(&bytes)),
            DType::U32 => CpuStorage::U32(bytemuck::pod_collect_to_vec(&bytes)),
            DType::F64 => unreachable!("f64 never reaches the GPU"),
        }
    }

    pub fn dtype(&self) -> DType {
        self.dtype
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn device(&self) -> Device {
        Device::Gpu(self.buf.ctx.ordinal)
    }

    pub fn context(&self) -> &Arc<GpuContext> {
        &self.buf.ctx
    }

    pub(crate) fn buffer(&self) -> &wgpu::Buffer {
        self.buf.buffer.as_ref().expect("live buffer")
    }

    /// True when no other storage shares this buffer (in-place updates).
    pub(crate) fn is_unique(&self) -> bool {
        Arc::strong_count(&self.buf) == 1
    }
}
