//! The GPU runtime: transfers, dtype errors, pipeline cache and buffer pool reuse.

mod gpu;

use gpu::gpu_or_skip;
use llamaforge_engine::gpu::GpuContext;
use llamaforge_engine::{DType, Device, GpuError, Tensor};

#[test]
fn round_trip_keeps_values_and_layout() {
    let Some(gpu) = gpu_or_skip("round_trip_keeps_values_and_layout") else { return };
    let x = Tensor::from_vec((0..12).map(|i| i as f32).collect(), &[3, 4]).transpose(0, 1).narrow(0, 1, 2);
    let on_gpu = x.to_device(gpu).expect("upload");
    assert_eq!(on_gpu.device(), gpu);
    assert_eq!(on_gpu.to_vec::<f32>(), x.to_vec::<f32>());
    let back = on_gpu.to_device(Device::Cpu).expect("download");
    assert_eq!(back.device(), Device::Cpu);
    assert_eq!(back.to_vec::<f32>(), x.to_vec::<f32>());
    let ids = Tensor::from_vec(vec![3u32, 0, 7], &[3]).to_device(gpu).expect("u32 upload");
    assert_eq!(ids.to_dtype(DType::F32).to_vec::<f32>(), vec![3.0, 0.0, 7.0]);
}

#[test]
fn f64_is_a_clear_error() {
    let Some(gpu) = gpu_or_skip("f64_is_a_clear_error") else { return };
    let err = Tensor::zeros(&[2], DType::F64).to_device(gpu).unwrap_err();
    assert!(matches!(err, GpuError::UnsupportedDType(DType::F64)), "{err}");
    assert!(err.to_string().contains("f32"), "{err}");
}

#[test]
fn a_missing_gpu_is_an_error_not_a_panic() {
    let err = Tensor::zeros(&[2], DType::F32).to_device(Device::Gpu(1000)).unwrap_err();
    assert!(err.to_string().contains("gpu:1000") || matches!(err, GpuError::Disabled), "{err}");
}

#[test]
fn pipelines_are_cached_and_buffers_recycled() {
    let Some(gpu) = gpu_or_skip("pipelines_are_cached_and_buffers_recycled") else { return };
    let ctx = GpuContext::get(0).expect("context");
    let x = Tensor::randn(&[64, 64], 1.0, DType::F32, 1).to_device(gpu).expect("upload");
    let step = |x: &Tensor| x.matmul(x).silu().sum_all().to_scalar();
    let first = step(&x);
    let (pipelines, pooled) = (ctx.stats().pipelines, ctx.stats().pooled_bytes);
    for _ in 0..20 {
        assert_eq!(step(&x), first, "same inputs, same kernels, same result");
    }
    assert_eq!(ctx.stats().pipelines, pipelines, "no pipeline is compiled twice");
    assert!(ctx.stats().pooled_bytes <= pooled.max(1 << 20), "freed buffers are reused, not piled up");
}
