//! The WGSL GPU backend on wgpu (Vulkan, Metal, DX12), behind the `gpu` cargo feature.
//!
//! - `context`: one adapter + device + queue per ordinal, created on first use; a missing
//!   adapter is a [`GpuError`], never a panic.
//! - `pool`: device buffers recycled by power-of-two size class, with a bounded free list.
//! - `batch`: dispatches are recorded into one command encoder and submitted in batches;
//!   op parameters go into one uniform arena per batch. Only explicit reads (`to_vec`,
//!   `to_scalar`) wait for the device.
//! - `pipelines`: compute pipelines cached by (shader, entry point, specialization).
//! - `kernels/`: the host side of each op family: checks, parameters, one dispatch each.
//!   The WGSL lives in `shaders/*.wgsl`, one file per op family.
//!
//! Without the feature, `stub` keeps the same types so no `cfg` leaks into tensor code,
//! and moving a tensor to `Device::Gpu` returns [`GpuError::Disabled`].

mod entry;
mod error;

pub use entry::{gpu_entry, shader_source, SHADERS};
pub use error::GpuError;

#[cfg(feature = "gpu")]
mod batch;
#[cfg(feature = "gpu")]
mod context;
#[cfg(feature = "gpu")]
pub(crate) mod kernels;
#[cfg(feature = "gpu")]
mod pipelines;
#[cfg(feature = "gpu")]
mod pool;
#[cfg(feature = "gpu")]
mod storage;

#[cfg(feature = "gpu")]
pub use context::{adapters, AdapterSummary, GpuContext, GpuStats};
#[cfg(feature = "gpu")]
pub use storage::GpuStorage;

#[cfg(not(feature = "gpu"))]
mod stub;
#[cfg(not(feature = "gpu"))]
pub use stub::{adapters, AdapterSummary, GpuStorage};
