//! `llamaforge bench`: `bench ops` measures GEMM GFLOP/s and the bandwidth of the fused
//! kernels through the public `Tensor` API, next to plain memory copies (the ceiling a
//! memory-bound kernel can reach); `bench generate` lives in `bench_generate.rs`.

use std::time::{Duration, Instant};

use llamaforge_engine::{AdamWParams, DType, Tensor};

/// Arguments of `llamaforge bench`.
#[derive(clap::Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    command: BenchCommand,
}

#[derive(clap::Subcommand)]
enum BenchCommand {
    /// GEMM GFLOP/s and fused-kernel GB/s against a memory-copy ceiling.
    Ops(OpsArgs),
    /// Generation throughput of a model preset.
    Generate(crate::cli::bench_generate::BenchGenerateArgs),
    /// Training-step throughput of a model preset.
    Train(crate::cli::bench_train::BenchTrainArgs),
    /// SFT-step throughput (packed, answer-only loss) next to the pretraining step.
    Sft(crate::cli::bench_sft::BenchSftArgs),
}

/// Arguments of `llamaforge bench ops`.
#[derive(clap::Args)]
pub(crate) struct OpsArgs {
    #[arg(long, default_value = "cpu", value_parser = super::device::parse_device, help = super::device::HELP)]
    pub(crate) device: String,
    /// Timed repetitions per benchmark (CPU: the median is reported; GPU: one batch of
    /// this many launches, timed to the device's completion), after warm-up runs.
    #[arg(long, default_value_t = 10)]
    pub(crate) reps: usize,
    /// Largest square GEMM size to run (256, 512, … up to this; default 2048 on the CPU,
    /// 4096 on a GPU).
    #[arg(long)]
    pub(crate) max_gemm: Option<usize>,
    /// GPU only: fused-op shapes 8× smaller (for software drivers such as lavapipe).
    #[arg(long)]
    pub(crate) small: bool,
}

pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    match args.command {
        BenchCommand::Ops(ops) => run_ops(ops),
        BenchCommand::Generate(g) => crate::cli::bench_generate::run(g),
        BenchCommand::Train(t) => crate::cli::bench_train::run(t),
        BenchCommand::Sft(s) => crate::cli::bench_sft::run(s),
    }
}

/// Median wall time of `f` over `reps` runs, after two warm-up runs (page faults, caches,
/// thread-pool start-up are not what we want to measure).
fn median_time<R>(reps: usize, mut f: impl FnMut() -> R) -> Duration {
    for _ in 0..2 {
        std::hint::black_box(f());
    }
    let mut times: Vec<Duration> = (0..reps.max(1))
        .map(|_| {
            let start = Instant::now();
            // the result is dropped inside the timing: freeing the output is part of the op
            drop(std::hint::black_box(f()));
            start.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".to_string())
}

/// One row of the bandwidth table: name, shape, bytes moved (read + written).
struct Row {
    name: &'static str,
    shape: String,
    bytes: usize,
    time: Duration,
}

impl Row {
    fn gbps(&self) -> f64 {
        self.bytes as f64 / self.time.as_secs_f64() / 1e9
    }
}

const F32: usize = 4;

fn run_ops(args: OpsArgs) -> anyhow::Result<()> {
    let device = super::device::open_device(&args.device)?;
    if device != llamaforge_engine::Device::Cpu {
        return super::bench_gpu::run_ops_gpu(&args, device);
    }
    let reps = args.reps;
    let max_gemm = args.max_gemm.unwrap_or(2048);
    println!("llamaforge bench ops --device cpu");
    println!("cpu:     {}", cpu_model());
    println!(
        "threads: {} (rayon), {} available; MATMUL_NUM_THREADS={}",
        llamaforge_engine::cpu::num_threads(),
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        std::env::var("MATMUL_NUM_THREADS").unwrap_or_else(|_| "unset".into())
    );
    println!(
        "simd:    {} in use (detected {})",
        llamaforge_engine::cpu::simd::level(),
        llamaforge_engine::cpu::simd::detected_level()
    );
    println!("timing:  median of {reps} runs after 2 warm-up runs\n");

    println!("{:<28} {:>10} {:>10}", "f32 GEMM (square)", "ms", "GFLOP/s");
    for n in [256usize, 512, 1024, 2048, 4096].into_iter().filter(|&n| n <= max_gemm) {
        let a = Tensor::randn(&[n, n], 1.0, DType::F32, 1);
        let b = Tensor::randn(&[n, n], 1.0, DType::F32, 2);
        let t = median_time(reps, || a.matmul(&b));
        let gflops = 2.0 * (n * n * n) as f64 / t.as_secs_f64() / 1e9;
        println!("{:<28} {:>10.3} {:>10.1}", format!("{n}x{n}x{n}"), t.as_secs_f64() * 1e3, gflops);
    }
    println!();

    let mut rows = copy_ceiling(reps);
    // the faster of the single- and all-thread copies
    let ceiling = rows.iter().filter(|r| r.name.starts_with("copy")).map(Row::gbps).fold(f64::NAN, f64::max);
    rows.extend(fused_ops(reps));
    println!("{:<18} {:<20} {:>10} {:>10} {:>9}", "op (f32)", "shape", "ms", "GB/s", "% copy");
    for r in &rows {
        println!(
            "{:<18} {:<20} {:>10.3} {:>10.1} {:>8.0}%",
            r.name,
            r.shape,
            r.time.as_secs_f64() * 1e3,
            r.gbps(),
            100.0 * r.gbps() / ceiling
        );
    }
    println!(
        "\nGB/s = (bytes read + bytes written) / median time; % copy is against the faster copy ({ceiling:.1} GB/s)."
    );
    Ok(())
}

/// Plain copies of a 64 MiB buffer (larger than the last-level cache) and a Tensor `a + b`.
fn copy_ceiling(reps: usize) -> Vec<Row> {
    let n = 16 << 20; // 16 Mi f32 = 64 MiB
    let src = vec![1.0f32; n];
    let mut dst = vec![0.0f32; n];
    let shape = "16Mi f32 (64 MiB)".to_string();
    let clone =
        Row { name: "Vec::clone", shape: shape.clone(), bytes: 2 * n * F32, time: median_time(reps, || src.clone()) };
    let copy = Row {
        name: "copy_from_slice",
        shape: shape.clone(),
        bytes: 2 * n * F32,
        time: median_time(reps, || dst.copy_from_slice(&src)),
    };
    // the fused kernels run on every core, so a copy split across the same threads is the
    // fair ceiling for them
    let threads = llamaforge_engine::cpu::num_threads().max(1);
    let per_thread = n.div_ceil(threads);
    let parallel_copy = Row {
        name: "copy, all threads",
        shape: shape.clone(),
        bytes: 2 * n * F32,
        time: median_time(reps, || {
            std::thread::scope(|scope| {
                for (d, s) in dst.chunks_mut(per_thread).zip(src.chunks(per_thread)) {
                    scope.spawn(move || d.copy_from_slice(s));
                }
            })
        }),
    };
    let a = Tensor::randn(&[n], 1.0, DType::F32, 3);
    let b = Tensor::randn(&[n], 1.0, DType::F32, 4);
    let add = Row { name: "a+b (Tensor)", shape, bytes: 3 * n * F32, time: median_time(reps, || a.add(&b)) };
    vec![clone, copy, parallel_copy, add]
}

/// The fused kernels at the sizes the 260K/15M presets use in training.
fn fused_ops(reps: usize) -> Vec<Row> {
    let mut rows = Vec::new();

    // attention scores: B·H = 64 heads of T×T, causal (the masked upper triangle is
    // skipped on read but still written as zeros)
    let (bh, t) = (64, 256);
    let scores = Tensor::randn(&[bh, t, t], 1.0, DType::F32, 5);
    let n = bh * t * t;
    let visible = bh * t * (t + 1) / 2;
    rows.push(Row {
        name: "softmax causal",
        shape: format!("[{bh}, {t}, {t}]"),
        bytes: (visible + n) * F32,
        time: median_time(reps, || scores.softmax(true)),
    });

    let (r, c) = (8 * 512, 288);
    let x = Tensor::randn(&[r, c], 1.0, DType::F32, 6);
    let w = Tensor::randn(&[c], 1.0, DType::F32, 7);
    rows.push(Row {
        name: "rms_norm",
        shape: format!("[{r}, {c}]"),
        bytes: (2 * r * c + c) * F32,
        time: median_time(reps, || x.rms_norm(&w, 1e-5)),
    });

    let q = Tensor::randn(&[8, 512, 6, 48], 1.0, DType::F32, 8);
    rows.push(Row {
        name: "rope",
        shape: "[8, 512, 6, 48]".into(),
        bytes: 2 * q.numel() * F32,
        time: median_time(reps, || q.rope(0, None, 10000.0, false)),
    });

    for (n, v) in [(8 * 512, 512), (4 * 256, 32000)] {
        let logits = Tensor::randn(&[n, v], 2.0, DType::F32, 9);
        let targets = Tensor::from_vec((0..n as u32).map(|i| (i * 7919) % v as u32).collect::<Vec<u32>>(), &[n]);
        rows.push(Row {
            name: "cross_entropy",
            shape: format!("[{n}, {v}]"),
            bytes: (n * v + n) * F32,
            time: median_time(reps, || logits.cross_entropy(&targets, u32::MAX)),
        });
    }

    let (r, f) = (4096, 768);
    let gate = Tensor::randn(&[r, f], 1.0, DType::F32, 10);
    let up = Tensor::randn(&[r, f], 1.0, DType::F32, 11);
    rows.push(Row {
        name: "swiglu",
        shape: format!("[{r}, {f}]"),
        bytes: 3 * r * f * F32,
        time: median_time(reps, || gate.swiglu(&up)),
    });

    // ~15M parameters: p, g, m, v read, p, m, v written
    let n = 15 << 20;
    let mut p = Tensor::randn(&[n], 0.02, DType::F32, 12);
    let g = Tensor::randn(&[n], 0.01, DType::F32, 13);
    let mut m = Tensor::zeros(&[n], DType::F32);
    let mut v = Tensor::zeros(&[n], DType::F32);
    let mut step = 0;
    let time = median_time(reps, || {
        step += 1;
        let hp = AdamWParams { lr: 1e-3, beta1: 0.9, beta2: 0.95, eps: 1e-5, weight_decay: 0.1, step };
        Tensor::adamw(&mut p, &g, &mut m, &mut v, hp);
    });
    rows.push(Row { name: "adamw", shape: "15Mi params".into(), bytes: 7 * n * F32, time });
    rows
}
