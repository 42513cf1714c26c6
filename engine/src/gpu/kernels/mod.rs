//! Host side of the GPU kernels: pick the device, bring operands onto it, pack the
//! parameters, allocate the output and record one launch. Shape checks already happened in
//! `ops/`; these functions mirror the signatures of `crate::backend`.

pub(crate) mod attention;
pub(crate) mod copy;
pub(crate) mod elementwise;
pub(crate) mod fused;
pub(crate) mod index;
pub(crate) mod matmul;
pub(crate) mod reduce;

use std::sync::Arc;

use super::{GpuContext, GpuError, GpuStorage};
use crate::{DType, Device, Layout, Storage, Tensor};

/// Threads per workgroup of the 1-D kernels (`WG` in common.wgsl).
pub(crate) const WG: u32 = 256;
/// Workgroups per grid dimension that every adapter supports.
const MAX_GROUPS: u32 = 65535;

/// The GPU an op runs on: that of its first GPU operand, if any.
pub(crate) fn target(inputs: &[&Tensor]) -> Option<Arc<GpuContext>> {
    inputs.iter().find_map(|t| match t.storage() {
        Storage::Gpu(g) => Some(g.context().clone()),
        Storage::Cpu(_) => None,
    })
}

/// `t` on `ctx`'s device: host operands (constants such as the zeros of a backward rule)
/// are uploaded; an operand on another GPU is an error.
#[track_caller]
pub(crate) fn on(ctx: &Arc<GpuContext>, t: &Tensor) -> Tensor {
    match t.storage() {
        Storage::Gpu(g) => {
            assert_eq!(
                g.context().ordinal,
                ctx.ordinal,
                "gpu: operands on gpu:{} and gpu:{}; move them to one device",
                g.context().ordinal,
                ctx.ordinal
            );
            t.clone()
        }
        Storage::Cpu(_) => upload(ctx, t).unwrap_or_else(|e| panic!("gpu: cannot use a host operand: {e}")),
    }
}

/// Copies a host tensor to `ctx` (its layout is kept: only the storage moves).
pub(crate) fn upload(ctx: &Arc<GpuContext>, t: &Tensor) -> Result<Tensor, GpuError> {
    let Storage::Cpu(data) = t.storage() else { return Ok(t.clone()) };
    let s = GpuStorage::upload(ctx, data)?;
    Ok(Tensor::from_storage(Storage::Gpu(s), t.layout().clone()))
}

/// Moves `t` to `device` (a copy; `t` itself is returned when already there).
pub(crate) fn to_device(t: &Tensor, device: Device) -> Result<Tensor, GpuError> {
    match (t.storage(), device) {
        (_, d) if d == t.device() => Ok(t.clone()),
        (Storage::Gpu(g), Device::Cpu) => {
            let c = copy::contiguous(t);
            let Storage::Gpu(cg) = c.storage() else { unreachable!("kernel output is on the GPU") };
            let _ = g;
            Ok(Tensor::from_storage(Storage::Cpu(cg.to_cpu()), Layout::contiguous(t.shape())))
        }
        (_, Device::Gpu(ordinal)) => {
            let ctx = GpuContext::get(ordinal)?;
            let host = if t.device() == Device::Cpu { t.clone() } else { to_device(t, Device::Cpu)? };
            if host.dtype() == DType::F64 {
                return Err(GpuError::UnsupportedDType(DType::F64));
            }
            upload(&ctx, &host.contiguous())
        }
        (Storage::Cpu(_), Device::Cpu) => Ok(t.clone()),
    }
}

/// The GPU storage of a tensor already on the device.
pub(crate) fn gpu(t: &Tensor) -> &GpuStorage {
    match t.storage() {
        Storage::Gpu(g) => g,
        Storage::Cpu(_) => unreachable!("operand was moved to the GPU first"),
    }
}

pub(crate) fn buf(t: &Tensor) -> &wgpu::Buffer {
    gpu(t).buffer()
}

/// A fresh contiguous tensor of `shape` on `ctx` (its kernel writes every element).
pub(crate) fn output(ctx: &Arc<GpuContext>, dtype: DType, shape: &[usize]) -> Tensor {
    let n = shape.iter().product();
    Tensor::from_storage(Storage::Gpu(GpuStorage::alloc(ctx, dtype, n)), Layout::contiguous(shape))
}

/// Panics with a clear message for dtypes the GPU does not compute in.
#[track_caller]
pub(crate) fn require_f32(op: &str, t: &Tensor) {
    assert_eq!(t.dtype(), DType::F32, "{op}: the GPU backend computes in f32, got {}", t.dtype());
}

/// Workgroups covering `n` threads of a 1-D kernel, folded into 2-D past 65535 groups
/// (the shaders' `flat_id` unfolds them).
pub(crate) fn grid_1d(n: usize) -> [u32; 3] {
    grid_rows(n.div_ceil(WG as usize))
}

/// One workgroup per row, folded into 2-D past 65535 rows (`flat_group` unfolds them).
pub(crate) fn grid_rows(rows: usize) -> [u32; 3] {
    if rows == 0 {
        return [0, 0, 0];
    }
    let x = rows.min(MAX_GROUPS as usize);
    [x as u32, rows.div_ceil(x) as u32, 1]
}

/// Kernel parameters as 32-bit words, in the order of the shader's `Params` struct.
#[derive(Default)]
pub(crate) struct Params(pub(crate) Vec<u32>);

/// Ranks a `Layout` parameter can describe (`array<vec4<u32>, 2>` in WGSL).
const MAX_RANK: usize = 8;

impl Params {
    pub(crate) fn new() -> Self {
        Params::default()
    }

    pub(crate) fn u(mut self, v: usize) -> Self {
        assert!(v <= u32::MAX as usize, "gpu: parameter {v} exceeds 32 bits");
        self.0.push(v as u32);
        self
    }

    pub(crate) fn f(mut self, v: f64) -> Self {
        self.0.push((v as f32).to_bits());
        self
    }

    /// A `Layout` struct of common.wgsl: shape, strides, rank, offset, numel (80 bytes).
    #[track_caller]
    pub(crate) fn layout(mut self, l: &Layout) -> Self {
        assert!(l.rank() <= MAX_RANK, "gpu: rank {} exceeds the {MAX_RANK} dims a kernel can index", l.rank());
        assert_eq!(self.0.len() % 4, 0, "gpu: a Layout parameter must start 16-byte aligned");
        let mut words = [0u32; 20];
        for (i, (&d, &s)) in l.shape().iter().zip(l.strides()).enumerate() {
            words[i] = d as u32;
            words[8 + i] = s as u32;
        }
        words[16] = l.rank() as u32;
        words[17] = l.offset() as u32;
        words[18] = l.numel() as u32;
        self.0.extend_from_slice(&words);
        self
    }
}
