//! Choosing a device from a user's `--device cpu|gpu|gpu:N|auto`, waiting for a device,
//! and its memory counters — the same on builds with and without the `gpu` feature.

use crate::{DType, Device, GpuError, Tensor};

/// What the user asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceSpec {
    Cpu,
    /// A GPU by ordinal (`gpu` is `gpu:0`); failing to open it is an error.
    Gpu(usize),
    /// GPU 0 when an adapter opens, else the CPU.
    Auto,
}

impl std::str::FromStr for DeviceSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "cpu" => Ok(DeviceSpec::Cpu),
            "gpu" => Ok(DeviceSpec::Gpu(0)),
            "auto" => Ok(DeviceSpec::Auto),
            other => other
                .strip_prefix("gpu:")
                .and_then(|n| n.parse().ok())
                .map(DeviceSpec::Gpu)
                .ok_or_else(|| format!("unknown device `{s}` (expected cpu, gpu, gpu:N or auto)")),
        }
    }
}

/// The device chosen, with one human-readable line saying which and why.
#[derive(Clone, Debug)]
pub struct SelectedDevice {
    pub device: Device,
    pub description: String,
}

/// Opens the device `spec` names. `Gpu(n)` without a working adapter is an error (never a
/// panic); `Auto` falls back to the CPU and says why.
pub fn select_device(spec: DeviceSpec) -> Result<SelectedDevice, GpuError> {
    let cpu = |why: String| SelectedDevice { device: Device::Cpu, description: format!("device: cpu{why}") };
    match spec {
        DeviceSpec::Cpu => Ok(cpu(String::new())),
        DeviceSpec::Gpu(n) => open_gpu(n),
        DeviceSpec::Auto => match open_gpu(0) {
            Ok(mut gpu) => {
                gpu.description = format!("{} (auto)", gpu.description);
                Ok(gpu)
            }
            Err(e) => Ok(cpu(format!(" (auto: no GPU — {e})"))),
        },
    }
}

fn open_gpu(ordinal: usize) -> Result<SelectedDevice, GpuError> {
    // a one-element upload opens the context: adapter, device and queue
    Tensor::zeros(&[1], DType::F32).to_device(Device::Gpu(ordinal))?;
    let name = crate::gpu::adapters()
        .into_iter()
        .find(|a| a.ordinal == ordinal)
        .map_or_else(String::new, |a| format!(" ({}, {}, {})", a.name, a.backend, a.device_type));
    Ok(SelectedDevice { device: Device::Gpu(ordinal), description: format!("device: gpu:{ordinal}{name}") })
}

/// Memory counters of a GPU's buffer pool (tensor buffers only).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GpuMemory {
    /// Bytes of every tensor buffer that exists now (in use + pooled for reuse).
    pub allocated_bytes: u64,
    /// Number of those buffers.
    pub buffers: usize,
    /// Bytes parked in the free lists.
    pub pooled_bytes: u64,
    /// High-water mark of `allocated_bytes`.
    pub peak_bytes: u64,
}

/// The pool counters of `device` (`None` for the CPU or an unopened GPU).
pub fn gpu_memory(device: Device) -> Option<GpuMemory> {
    let Device::Gpu(_ordinal) = device else { return None };
    #[cfg(feature = "gpu")]
    {
        let s = crate::gpu::GpuContext::get(_ordinal).ok()?.stats();
        Some(GpuMemory {
            allocated_bytes: s.allocated_bytes,
            buffers: s.buffers,
            pooled_bytes: s.pooled_bytes,
            peak_bytes: s.peak_allocated_bytes,
        })
    }
    #[cfg(not(feature = "gpu"))]
    None
}

/// Blocks until `device` has finished all recorded work (a no-op on the CPU, whose ops
/// finish before they return).
pub fn sync_device(device: Device) -> Result<(), GpuError> {
    match device {
        Device::Cpu => Ok(()),
        #[cfg(feature = "gpu")]
        Device::Gpu(n) => crate::gpu::GpuContext::get(n)?.wait(),
        #[cfg(not(feature = "gpu"))]
        Device::Gpu(_) => Err(GpuError::Disabled),
    }
}

impl Tensor {
    /// Waits until the device holding this tensor has finished all recorded work — for
    /// timing GPU work; values are read with `to_vec`/`to_scalar`, which wait themselves.
    pub fn sync(&self) {
        if let Err(e) = sync_device(self.device()) {
            panic!("sync: {e}");
        }
    }
}
