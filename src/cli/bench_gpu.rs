//! `llamaforge bench ops --device gpu`: GEMM TFLOP/s and fused-kernel GB/s on a GPU. Each
//! figure times one batch of `reps` launches from the first record to the device's
//! completion (`sync_device` once, at the end), so it measures the kernels with the
//! batched submission the training loop uses — never a host round trip per op.

use std::time::{Duration, Instant};

use llamaforge_engine::{gpu::adapters, gpu_memory, sync_device, AdamWParams, DType, Device, Tensor};

use super::bench::OpsArgs;

const F32: usize = 4;

/// Mean time per run of `f` over one batch of `reps` runs, after two warm-up runs; the
/// device is waited for before the clock starts and once after the last run.
fn batch_time<R>(device: Device, reps: usize, mut f: impl FnMut() -> R) -> anyhow::Result<Duration> {
    for _ in 0..2 {
        drop(f());
    }
    sync_device(device)?;
    let reps = reps.max(1);
    let start = Instant::now();
    for _ in 0..reps {
        drop(std::hint::black_box(f()));
    }
    sync_device(device)?;
    Ok(start.elapsed() / reps as u32)
}

fn on(t: Tensor, device: Device) -> anyhow::Result<Tensor> {
    Ok(t.to_device(device)?)
}

pub fn run_ops_gpu(args: &OpsArgs, device: Device) -> anyhow::Result<()> {
    let Device::Gpu(ordinal) = device else { unreachable!("called for a GPU") };
    let reps = args.reps;
    let max_gemm = args.max_gemm.unwrap_or(4096);
    let shrink = if args.small { 8 } else { 1 };
    println!("llamaforge bench ops --device {device}");
    if let Some(a) = adapters().into_iter().find(|a| a.ordinal == ordinal) {
        println!("gpu:     {} ({}, {}, driver {})", a.name, a.backend, a.device_type, a.driver);
    }
    println!("timing:  one batch of {reps} launches per row after 2 warm-up runs, synchronized at its end\n");

    println!("{:<28} {:>10} {:>10}", "f32 GEMM (square)", "ms", "GFLOP/s");
    for n in [256usize, 512, 1024, 2048, 4096].into_iter().filter(|&n| n <= max_gemm) {
        let a = on(Tensor::randn(&[n, n], 1.0, DType::F32, 1), device)?;
        let b = on(Tensor::randn(&[n, n], 1.0, DType::F32, 2), device)?;
        let t = batch_time(device, reps, || a.matmul(&b))?;
        let gflops = 2.0 * (n * n * n) as f64 / t.as_secs_f64() / 1e9;
        println!("{:<28} {:>10.3} {:>10.1}", format!("{n}x{n}x{n}"), t.as_secs_f64() * 1e3, gflops);
    }
    println!();

    let mut rows: Vec<(String, String, usize, Duration)> = Vec::new();
    // the ceiling: a unary op reads and writes every element once, like a copy
    let n = (16 << 20) / shrink;
    let a = on(Tensor::randn(&[n], 1.0, DType::F32, 3), device)?;
    let b = on(Tensor::randn(&[n], 1.0, DType::F32, 4), device)?;
    let mib = (n * F32) >> 20;
    rows.push((
        "neg (copy ceiling)".into(),
        format!("{n} f32 ({mib} MiB)"),
        2 * n * F32,
        batch_time(device, reps, || a.neg())?,
    ));
    rows.push(("a+b".into(), format!("{n} f32 ({mib} MiB)"), 3 * n * F32, batch_time(device, reps, || a.add(&b))?));

    let (bh, t) = (64 / shrink, 256);
    let scores = on(Tensor::randn(&[bh, t, t], 1.0, DType::F32, 5), device)?;
    let visible = bh * t * (t + 1) / 2;
    let time = batch_time(device, reps, || scores.softmax(true))?;
    rows.push(("softmax causal".into(), format!("[{bh}, {t}, {t}]"), (visible + bh * t * t) * F32, time));

    let (r, c) = (8 * 512 / shrink, 288);
    let x = on(Tensor::randn(&[r, c], 1.0, DType::F32, 6), device)?;
    let w = on(Tensor::randn(&[c], 1.0, DType::F32, 7), device)?;
    let time = batch_time(device, reps, || x.rms_norm(&w, 1e-5))?;
    rows.push(("rms_norm".into(), format!("[{r}, {c}]"), (2 * r * c + c) * F32, time));

    let q = on(Tensor::randn(&[8 / shrink.min(8), 512, 6, 48], 1.0, DType::F32, 8), device)?;
    let time = batch_time(device, reps, || q.rope(0, None, 10000.0, false))?;
    rows.push(("rope".into(), format!("{:?}", q.shape()), 2 * q.numel() * F32, time));

    for (n, v) in [(8 * 512 / shrink, 512), (4 * 256 / shrink, 32000)] {
        let logits = on(Tensor::randn(&[n, v], 2.0, DType::F32, 9), device)?;
        let targets = Tensor::from_vec((0..n as u32).map(|i| (i * 7919) % v as u32).collect::<Vec<u32>>(), &[n]);
        let time = batch_time(device, reps, || logits.cross_entropy(&targets, u32::MAX))?;
        rows.push(("cross_entropy".into(), format!("[{n}, {v}]"), (n * v + n) * F32, time));
    }

    let (r, f) = (4096 / shrink, 768);
    let gate = on(Tensor::randn(&[r, f], 1.0, DType::F32, 10), device)?;
    let up = on(Tensor::randn(&[r, f], 1.0, DType::F32, 11), device)?;
    rows.push((
        "swiglu".into(),
        format!("[{r}, {f}]"),
        3 * r * f * F32,
        batch_time(device, reps, || gate.swiglu(&up))?,
    ));

    let n = (15 << 20) / shrink;
    let mut p = on(Tensor::randn(&[n], 0.02, DType::F32, 12), device)?;
    let g = on(Tensor::randn(&[n], 0.01, DType::F32, 13), device)?;
    let mut m = on(Tensor::zeros(&[n], DType::F32), device)?;
    let mut v = on(Tensor::zeros(&[n], DType::F32), device)?;
    let mut step = 0;
    let time = batch_time(device, reps, || {
        step += 1;
        let hp = AdamWParams { lr: 1e-3, beta1: 0.9, beta2: 0.95, eps: 1e-5, weight_decay: 0.1, step };
        Tensor::adamw(&mut p, &g, &mut m, &mut v, hp);
    })?;
    rows.push(("adamw".into(), format!("{n} params"), 7 * n * F32, time));

    let gbps = |bytes: usize, t: Duration| bytes as f64 / t.as_secs_f64() / 1e9;
    let ceiling = gbps(rows[0].2, rows[0].3);
    println!("{:<18} {:<22} {:>10} {:>10} {:>9}", "op (f32)", "shape", "ms", "GB/s", "% copy");
    for (name, shape, bytes, t) in &rows {
        let bw = gbps(*bytes, *t);
        println!(
            "{:<18} {:<22} {:>10.3} {:>10.1} {:>8.0}%",
            name,
            shape,
            t.as_secs_f64() * 1e3,
            bw,
            100.0 * bw / ceiling
        );
    }
    println!("\nGB/s = (bytes read + bytes written) / time per launch; % copy is against `neg` ({ceiling:.1} GB/s).");
    if let Some(mem) = gpu_memory(device) {
        println!("peak GPU memory (buffer pool): {:.0} MiB", mem.peak_bytes as f64 / (1 << 20) as f64);
    }
    Ok(())
}
