//! Errors of the GPU backend: device set-up and transfers. Shape errors stay panics.

use crate::DType;

/// Why a GPU device or transfer is not available.
#[derive(Debug, thiserror::Error)]
pub enum GpuError {
    #[error("llamaforge was built without the `gpu` feature")]
    Disabled,
    #[error(
        "no GPU adapter found for gpu:{ordinal} ({found} adapter(s) on backends {backends}); install a Vulkan \
         driver (e.g. `apt-get install mesa-vulkan-drivers libvulkan1`) or set WGPU_BACKEND"
    )]
    NoAdapter { ordinal: usize, found: usize, backends: String },
    #[error("gpu:{ordinal}: could not open the device of adapter {adapter:?}: {reason}")]
    RequestDevice { ordinal: usize, adapter: String, reason: String },
    #[error("the GPU backend computes in f32 (u32 for ids); convert {0} tensors with to_dtype(DType::F32) first")]
    UnsupportedDType(DType),
    #[error("a tensor of {bytes} bytes exceeds this adapter's max_storage_buffer_binding_size of {limit} bytes")]
    TooLarge { bytes: u64, limit: u64 },
}
