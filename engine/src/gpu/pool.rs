//! Size-bucketed buffer pool: freed device buffers go to a free list per power-of-two size
//! class and are handed out again, so a training step allocates nothing once warm. The
//! free lists are bounded (`max_free_bytes`); past that, freed buffers are destroyed.
//!
//! Reuse is safe without waiting for the GPU: every use of a buffer is recorded on the
//! one queue in program order, and uploads flush the open batch before writing.

use std::collections::HashMap;

/// Storage buffers usable as kernel inputs and outputs and for copies both ways.
pub(crate) const USAGE: wgpu::BufferUsages =
    wgpu::BufferUsages::STORAGE.union(wgpu::BufferUsages::COPY_SRC).union(wgpu::BufferUsages::COPY_DST);

/// Smallest class: bindings must be non-empty and 4-byte aligned.
const MIN_CLASS: u64 = 16;

pub(crate) struct BufferPool {
    free: HashMap<u64, Vec<wgpu::Buffer>>,
    free_bytes: u64,
    max_free_bytes: u64,
    /// Largest buffer the device can create.
    max_buffer_size: u64,
    /// Bytes of every buffer this pool created and has not destroyed (live + free lists).
    allocated_bytes: u64,
    /// Number of those buffers.
    buffers: usize,
    /// High-water mark of `allocated_bytes`: the GPU memory tensors ever needed at once.
    peak_bytes: u64,
}

/// The power-of-two class that holds `bytes`.
pub(crate) fn size_class(bytes: u64) -> u64 {
    bytes.max(MIN_CLASS).next_power_of_two()
}

impl BufferPool {
    pub(crate) fn new(limits: &wgpu::Limits) -> Self {
        let max_free_bytes = std::env::var("LLAMAFORGE_GPU_POOL_MB")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .map_or(2 << 30, |mb| mb << 20);
        BufferPool {
            free: HashMap::new(),
            free_bytes: 0,
            max_free_bytes,
            max_buffer_size: limits.max_buffer_size,
            allocated_bytes: 0,
            buffers: 0,
            peak_bytes: 0,
        }
    }

    /// A buffer of at least `bytes` bytes: a recycled one of the same class, else a new one
    /// (exactly `bytes`, rounded to 4, when the class would exceed the device's limit).
    pub(crate) fn alloc(&mut self, device: &wgpu::Device, bytes: u64) -> wgpu::Buffer {
        let class = size_class(bytes);
        if let Some(buf) = self.free.get_mut(&class).and_then(Vec::pop) {
            self.free_bytes -= class;
            return buf;
        }
        let size = if class <= self.max_buffer_size { class } else { bytes.div_ceil(4) * 4 };
        self.allocated_bytes += size;
        self.buffers += 1;
        self.peak_bytes = self.peak_bytes.max(self.allocated_bytes);
        device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("llamaforge tensor"),
            size,
            usage: USAGE,
            mapped_at_creation: false,
        })
    }

    /// Returns a buffer to its free list, or destroys it when the pool is full.
    pub(crate) fn release(&mut self, buf: wgpu::Buffer) {
        let class = buf.size();
        if !class.is_power_of_two() || self.free_bytes + class > self.max_free_bytes {
            self.allocated_bytes -= class;
            self.buffers -= 1;
            return; // dropped: wgpu frees it once pending commands no longer use it
        }
        self.free_bytes += class;
        self.free.entry(class).or_default().push(buf);
    }

    /// Bytes held in free lists (for tests and diagnostics).
    pub(crate) fn free_bytes(&self) -> u64 {
        self.free_bytes
    }

    /// `(allocated bytes, buffer count, peak allocated bytes)` of tensor buffers.
    pub(crate) fn usage(&self) -> (u64, usize, u64) {
        (self.allocated_bytes, self.buffers, self.peak_bytes)
    }
}
