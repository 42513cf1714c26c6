//! Shared by the GPU tests: find the GPU or explain why the test is skipped.
#![allow(dead_code)]

use llamaforge_engine::{DType, Device, Tensor};

/// `Device::Gpu(0)` when an adapter opens. Without one the test is skipped with a printed
/// reason — unless `LLAMAFORGE_REQUIRE_GPU=1` (CI), where it fails.
pub fn gpu_or_skip(test: &str) -> Option<Device> {
    match Tensor::zeros(&[1], DType::F32).to_device(Device::Gpu(0)) {
        Ok(_) => Some(Device::Gpu(0)),
        Err(e) if std::env::var("LLAMAFORGE_REQUIRE_GPU").as_deref() == Ok("1") => {
            panic!("{test}: LLAMAFORGE_REQUIRE_GPU=1 but no GPU: {e}")
        }
        Err(e) => {
            eprintln!("skipping {test}: no GPU ({e})");
            None
        }
    }
}

/// `t` as f32 on `device`.
#[track_caller]
pub fn f32_on(t: &Tensor, device: Device) -> Tensor {
    let t = if t.dtype() == DType::F64 { t.to_dtype(DType::F32) } else { t.clone() };
    t.to_device(device).expect("to_device")
}

/// Largest `|a - b| / max(|b|, 1)` (absolute for small values, relative for large).
#[track_caller]
pub fn rel_err(what: &str, a: &Tensor, b: &Tensor) -> f64 {
    assert_eq!(a.shape(), b.shape(), "{what}: shapes differ");
    let (a, b) = (a.to_vec_f64(), b.to_vec_f64());
    a.iter().zip(&b).map(|(x, y)| if x == y { 0.0 } else { (x - y).abs() / y.abs().max(1.0) }).fold(0.0, f64::max)
}
