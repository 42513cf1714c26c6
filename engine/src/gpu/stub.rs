//! Stand-ins when the `gpu` feature is off: the types exist (so `Storage` and `Device`
//! need no `cfg`), no value of `GpuStorage` can be made, and every GPU request is
//! [`GpuError::Disabled`].

use crate::{CpuStorage, DType, Device};

/// Uninhabited without the `gpu` feature.
#[derive(Clone, Debug)]
pub enum GpuStorage {}

impl GpuStorage {
    pub fn dtype(&self) -> DType {
        match *self {}
    }
    pub fn len(&self) -> usize {
        match *self {}
    }
    pub fn is_empty(&self) -> bool {
        match *self {}
    }
    pub fn device(&self) -> Device {
        match *self {}
    }
    pub fn to_cpu(&self) -> CpuStorage {
        match *self {}
    }
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

/// No adapters without the `gpu` feature.
pub fn adapters() -> Vec<AdapterSummary> {
    Vec::new()
}
