//! One GPU per ordinal: adapter, device and queue, with the buffer pool, the pipeline
//! cache and the open batch of dispatches. Contexts are created on first use and live for
//! the whole process (tensors hold them through their buffers).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use super::batch::Batch;
use super::pipelines::PipelineCache;
use super::pool::BufferPool;
use super::GpuError;

/// An opened GPU: everything a kernel launch needs.
pub struct GpuContext {
    pub ordinal: usize,
    pub info: wgpu::AdapterInfo,
    pub limits: wgpu::Limits,
    pub(crate) device: wgpu::Device,
    pub(crate) queue: wgpu::Queue,
    pub(crate) pool: Mutex<BufferPool>,
    pub(crate) pipelines: PipelineCache,
    pub(crate) batch: Mutex<Batch>,
}

impl std::fmt::Debug for GpuContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "gpu:{} ({}, {:?})", self.ordinal, self.info.name, self.info.backend)
    }
}

/// Counters of a context, for tests and diagnostics.
#[derive(Clone, Copy, Debug)]
pub struct GpuStats {
    pub pipelines: usize,
    /// Bytes parked in the pool's free lists, ready for reuse.
    pub pooled_bytes: u64,
    /// Bytes of every tensor buffer that exists now (in use + pooled).
    pub allocated_bytes: u64,
    /// Number of those buffers.
    pub buffers: usize,
    /// High-water mark of `allocated_bytes` since the context opened (peak GPU memory
    /// of tensors; pipelines, the parameter arena and readback staging are not counted).
    pub peak_allocated_bytes: u64,
}

/// What `llamaforge devices` prints about one adapter.
#[derive(Clone, Debug)]
pub struct AdapterSummary {
    pub ordinal: usize,
    pub name: String,
    pub backend: String,
    pub device_type: String,
    pub driver: String,
    pub max_storage_buffer_binding_size: u64,
    pub max_buffer_size: u64,
    pub max_compute_workgroup_storage_size: u32,
    pub max_compute_invocations_per_workgroup: u32,
    pub max_storage_buffers_per_shader_stage: u32,
}

/// The backends to search: `WGPU_BACKEND` when set (CI sets `vulkan` so a missing driver
/// fails loudly), else the primary native ones (Vulkan, Metal, DX12).
fn backends() -> wgpu::Backends {
    wgpu::Backends::from_env().unwrap_or(wgpu::Backends::PRIMARY)
}

/// Adapters in ordinal order: discrete GPUs first, software rasterizers last.
fn enumerate() -> Vec<wgpu::Adapter> {
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
    desc.backends = backends();
    let instance = wgpu::Instance::new(desc);
    let mut found = pollster::block_on(instance.enumerate_adapters(backends()));
    let rank = |a: &wgpu::Adapter| match a.get_info().device_type {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Other => 3,
        wgpu::DeviceType::Cpu => 4,
    };
    found.sort_by_key(rank);
    found
}

/// Every adapter wgpu can see, with its key limits.
pub fn adapters() -> Vec<AdapterSummary> {
    enumerate()
        .iter()
        .enumerate()
        .map(|(ordinal, a)| {
            let (info, limits) = (a.get_info(), a.limits());
            AdapterSummary {
                ordinal,
                name: info.name,
                backend: format!("{:?}", info.backend),
                device_type: format!("{:?}", info.device_type),
                driver: format!("{} {}", info.driver, info.driver_info).trim().to_string(),
                max_storage_buffer_binding_size: limits.max_storage_buffer_binding_size,
                max_buffer_size: limits.max_buffer_size,
                max_compute_workgroup_storage_size: limits.max_compute_workgroup_storage_size,
                max_compute_invocations_per_workgroup: limits.max_compute_invocations_per_workgroup,
                max_storage_buffers_per_shader_stage: limits.max_storage_buffers_per_shader_stage,
            }
        })
        .collect()
}

fn registry() -> &'static Mutex<HashMap<usize, Arc<GpuContext>>> {
    static CONTEXTS: OnceLock<Mutex<HashMap<usize, Arc<GpuContext>>>> = OnceLock::new();
    CONTEXTS.get_or_init(Default::default)
}

impl GpuContext {
    /// The context of GPU `ordinal`, opening it on first use.
    pub fn get(ordinal: usize) -> Result<Arc<GpuContext>, GpuError> {
        let mut contexts = registry().lock().expect("gpu registry poisoned");
        if let Some(ctx) = contexts.get(&ordinal) {
            return Ok(ctx.clone());
        }
        let ctx = Arc::new(GpuContext::open(ordinal)?);
        contexts.insert(ordinal, ctx.clone());
        Ok(ctx)
    }

    /// Compiled pipelines and bytes parked in the buffer pool's free lists.
    pub fn stats(&self) -> GpuStats {
        let pool = self.pool.lock().expect("gpu pool poisoned");
        let (allocated_bytes, buffers, peak_allocated_bytes) = pool.usage();
        GpuStats {
            pipelines: self.pipelines.len(),
            pooled_bytes: pool.free_bytes(),
            allocated_bytes,
            buffers,
            peak_allocated_bytes,
        }
    }

    /// Submits the open batch of launches without waiting for it.
    pub fn submit(&self) {
        self.flush();
    }

    /// Submits the open batch and blocks until the device has finished all recorded work
    /// (benchmarks time whole batches with it; the training loop never needs it).
    pub fn wait(&self) -> Result<(), GpuError> {
        self.flush();
        self.device.poll(wgpu::PollType::wait_indefinitely()).map(|_| ()).map_err(|e| GpuError::RequestDevice {
            ordinal: self.ordinal,
            adapter: self.info.name.clone(),
            reason: e.to_string(),
        })
    }

    fn open(ordinal: usize) -> Result<GpuContext, GpuError> {
        let mut found = enumerate();
        let count = found.len();
        if ordinal >= count {
            return Err(GpuError::NoAdapter { ordinal, found: count, backends: format!("{:?}", backends()) });
        }
        let adapter = found.swap_remove(ordinal);
        let info = adapter.get_info();
        // Ask for everything the adapter offers: large storage bindings matter for big
        // embedding tables, and the defaults are the WebGPU minimums.
        let limits = adapter.limits();
        let desc = wgpu::DeviceDescriptor {
            label: Some("llamaforge"),
            required_features: wgpu::Features::empty(),
            required_limits: limits.clone(),
            ..Default::default()
        };
        let (device, queue) = pollster::block_on(adapter.request_device(&desc))
            .map_err(|e| GpuError::RequestDevice { ordinal, adapter: info.name.clone(), reason: e.to_string() })?;
        let batch = Batch::new(&device, &limits);
        Ok(GpuContext {
            ordinal,
            info,
            pool: Mutex::new(BufferPool::new(&limits)),
            pipelines: PipelineCache::default(),
            batch: Mutex::new(batch),
            limits,
            device,
            queue,
        })
    }
}
