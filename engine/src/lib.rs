//! llamaforge-engine: tensors, the op set and its backends.
//!
//! A [`Tensor`] is a [`Layout`] (shape, strides, offset) over shared [`Storage`]. Views
//! change only the layout; ops (methods on `Tensor`, see `ops/`) check shapes, then
//! dispatch to a backend through `backend.rs`. Every op has one name — the [`Op`] variant —
//! shared by its CPU kernel (`cpu/`), its WGSL entry point, its backward rule and its
//! gradient-check row.

mod backend;
pub mod cpu;
mod device_select;
mod dtype;
pub mod gpu;
mod layout;
mod op;
mod ops;
mod storage;
mod tensor;
mod transfer;

pub use device_select::{gpu_memory, select_device, sync_device, DeviceSpec, GpuMemory, SelectedDevice};
pub use dtype::{DType, Float};
pub use gpu::GpuError;
pub use layout::{broadcast_shapes, contiguous_strides, Layout};
pub use op::{AdamWParams, BinaryOp, Op, ReduceOp, UnaryOp};
pub use storage::{CpuStorage, Device, Storage};
pub use tensor::{Element, Tensor};
