//! `llamaforge bench train`: training-step throughput of a preset on random tokens — the
//! full step: forward, loss, backward, global-norm clipping and the AdamW update, on the
//! CPU or (`--device gpu`) a GPU, where each timed step ends with a wait for the device.

use std::time::Instant;

use llamaforge_engine::{gpu_memory, sync_device, Device, Tensor};
use llamaforge_model::loss::{lm_head_chunk_for, lm_head_loss};
use llamaforge_model::{preset, Llama};
use llamaforge_training::optim::{clip_scale, global_grad_norm, AdamW, AdamWConfig};
use rand::{Rng, SeedableRng};

/// Arguments of `llamaforge bench train`.
#[derive(clap::Args)]
pub struct BenchTrainArgs {
    /// Model preset (random weights).
    #[arg(long, default_value = "260K")]
    preset: String,
    /// Sequences per step.
    #[arg(long, default_value_t = 8)]
    batch: usize,
    /// Tokens per sequence.
    #[arg(long, default_value_t = 512)]
    seq: usize,
    /// Timed steps (after 2 warm-up steps).
    #[arg(long, default_value_t = 10)]
    steps: usize,
    #[arg(long, default_value = "cpu", value_parser = super::device::parse_device, help = super::device::HELP)]
    device: String,
}

/// Peak resident set size of this process, from /proc (Linux), in bytes.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

pub fn run(args: BenchTrainArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.batch > 0 && args.seq > 0 && args.steps > 0, "bench train: batch, seq and steps must be ≥ 1");
    let mut config = preset(&args.preset)?;
    config.max_seq_len = config.max_seq_len.max(args.seq);
    let device = super::device::open_device(&args.device)?;
    let model = Llama::new_random(&config, 0)?;
    model.to_device(device)?;
    let mut opt = AdamW::new(model.parameters(), AdamWConfig::default());
    let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    let v = config.vocab_size as u32;
    let (b, t) = (args.batch, args.seq);
    let mut times = Vec::new();
    for step in 0..args.steps + 2 {
        let ids: Vec<u32> = (0..b * (t + 1)).map(|_| rng.random_range(0..v)).collect();
        let inputs: Vec<u32> = ids.chunks(t + 1).flat_map(|r| r[..t].to_vec()).collect();
        let targets: Vec<u32> = ids.chunks(t + 1).flat_map(|r| r[1..].to_vec()).collect();
        let start = Instant::now();
        // the LM head and loss go in row chunks, as in pretraining (no [B·T, V] logits)
        let hidden = model.hidden_states(&Tensor::from_vec(inputs, &[b, t])).reshape(&[b * t, config.dim]);
        let loss = lm_head_loss(
            &hidden,
            model.output_weight(),
            &Tensor::from_vec(targets, &[b * t]),
            lm_head_chunk_for(device),
        );
        loss.backward();
        let norm = global_grad_norm(opt.params());
        opt.step(1e-4, clip_scale(norm, 1.0));
        // the AdamW launches are only recorded: wait for them so the step is all timed
        sync_device(device)?;
        let elapsed = start.elapsed().as_secs_f64();
        if step >= 2 {
            times.push(elapsed);
        }
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    let tok_s = (b * t) as f64 / median;
    let gpu_peak = gpu_memory(device).map_or(String::new(), |m| {
        format!(", peak GPU memory {:.0} MiB (buffer pool)", m.peak_bytes as f64 / (1 << 20) as f64)
    });
    let threads =
        if device == Device::Cpu { format!("{} threads", rayon::current_num_threads()) } else { device.to_string() };
    println!(
        "bench train: preset {} ({} params), batch {b}×{t}, {threads}, median step {:.1} ms over {} steps: {tok_s:.0} tok/s, peak RSS {}{gpu_peak}",
        args.preset,
        config.num_parameters(),
        median * 1e3,
        times.len(),
        peak_rss_bytes().map_or("n/a".into(), |r| format!("{:.0} MiB", r as f64 / (1 << 20) as f64)),
    );
    Ok(())
}
