//! `llamaforge devices`: the compute devices this machine offers — the CPU and every GPU
//! adapter wgpu finds, with its backend and the limits that bound tensor sizes.

use clap::Args;
use llamaforge_engine::gpu::adapters;
use llamaforge_engine::{DType, Device, Tensor};

#[derive(Args, Debug)]
pub struct DevicesArgs {
    /// Also open each GPU and run a tiny kernel to check that it works.
    #[arg(long)]
    pub check: bool,
}

pub fn run(args: DevicesArgs) -> anyhow::Result<()> {
    println!("cpu      {} threads (rayon)", llamaforge_engine::cpu::num_threads());
    let found = adapters();
    if found.is_empty() {
        let backend = std::env::var("WGPU_BACKEND").unwrap_or_else(|_| "vulkan/metal/dx12".into());
        println!("no GPU adapter found (backends: {backend}); a software Vulkan driver: apt-get install mesa-vulkan-drivers libvulkan1");
        return Ok(());
    }
    for a in &found {
        println!("gpu:{}    {} ({}, {}, driver {})", a.ordinal, a.name, a.backend, a.device_type, a.driver);
        println!(
            "         max storage binding {} MiB, max buffer {} MiB, workgroup storage {} KiB, {} invocations/workgroup, {} storage buffers/stage",
            a.max_storage_buffer_binding_size >> 20,
            a.max_buffer_size >> 20,
            a.max_compute_workgroup_storage_size >> 10,
            a.max_compute_invocations_per_workgroup,
            a.max_storage_buffers_per_shader_stage
        );
        if args.check {
            let x = Tensor::from_vec(vec![1.0f32, 2.0, 3.0], &[3]).to_device(Device::Gpu(a.ordinal))?;
            let sum = x.square().sum_all().to_scalar();
            let ok = (sum - 14.0).abs() < 1e-6 && x.dtype() == DType::F32;
            println!("         check: sum of squares of [1,2,3] = {sum} ({})", if ok { "ok" } else { "WRONG" });
        }
    }
    Ok(())
}
