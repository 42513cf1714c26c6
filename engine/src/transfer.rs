//! Moving tensors between devices.

use crate::{Device, GpuError, Tensor};

impl Tensor {
    /// A copy of this tensor on `device` (the tensor itself when it is already there).
    ///
    /// The GPU holds f32 and u32 tensors: moving an f64 tensor there is
    /// [`GpuError::UnsupportedDType`]; a missing adapter is [`GpuError::NoAdapter`]; a
    /// build without the `gpu` feature gives [`GpuError::Disabled`].
    pub fn to_device(&self, device: Device) -> Result<Tensor, GpuError> {
        #[cfg(feature = "gpu")]
        {
            crate::gpu::kernels::to_device(self, device)
        }
        #[cfg(not(feature = "gpu"))]
        {
            match device {
                Device::Cpu => Ok(self.clone()),
                Device::Gpu(_) => Err(GpuError::Disabled),
            }
        }
    }
}
