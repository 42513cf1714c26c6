//! `llamaforge bench train`: training-step throughput of a preset on random tokens — the
//! full step: forward, loss, backward, global-norm clipping and the AdamW update, on the
//! CPU or (`--device gpu`) a GPU, where each timed step ends with a wait for the device.

use std::time::Instant;

use llamaforge_autograd::Var;
use llamaforge_engine::{gpu_memory, sync_device, Device, Tensor};
use llamaforge_model::loss::{lm_head_chunk_for, lm_head_loss};
use llamaforge_model::{preset, Config, Llama};
use llamaforge_training::optim::{clip_scale, global_grad_norm, AdamW, AdamWConfig};
use rand::rngs::StdRng;
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

/// A randomly initialized model of `preset` (context at least `seq`) on `device`, with the
/// AdamW of pretraining (the paper's β/eps/weight decay) over all its parameters.
pub(crate) fn random_model(preset_name: &str, seq: usize, device: Device) -> anyhow::Result<(Config, Llama, AdamW)> {
    let mut config = preset(preset_name)?;
    config.max_seq_len = config.max_seq_len.max(seq);
    let model = Llama::new_random(&config, 0)?;
    model.to_device(device)?;
    let opt = AdamW::new(model.parameters(), AdamWConfig::default());
    Ok((config, model, opt))
}

/// Random pretraining windows: inputs and next-token targets, each `B·T` ids, from one
/// draw of `B` rows of `T + 1` tokens below `vocab`.
pub(crate) fn random_windows(rng: &mut StdRng, b: usize, t: usize, vocab: u32) -> (Vec<u32>, Vec<u32>) {
    let ids: Vec<u32> = (0..b * (t + 1)).map(|_| rng.random_range(0..vocab)).collect();
    let inputs: Vec<u32> = ids.chunks(t + 1).flat_map(|r| r[..t].to_vec()).collect();
    let targets: Vec<u32> = ids.chunks(t + 1).flat_map(|r| r[1..].to_vec()).collect();
    (inputs, targets)
}

/// The pretraining loss of one batch: inputs `[B, T]`, targets `[B·T]`. The LM head and
/// loss go in row chunks, as in pretraining (no `[B·T, V]` logits on a GPU).
pub(crate) fn pretrain_loss(model: &Llama, inputs: Vec<u32>, targets: Vec<u32>, b: usize, t: usize) -> Var {
    let hidden = model.hidden_states(&Tensor::from_vec(inputs, &[b, t])).reshape(&[b * t, model.config.dim]);
    lm_head_loss(
        &hidden,
        model.output_weight(),
        &Tensor::from_vec(targets, &[b * t]),
        lm_head_chunk_for(model.device()),
    )
}

/// The rest of a full training step once the loss is built: backward, global-norm
/// clipping to 1.0, the AdamW update, and a wait for the device (on a GPU the AdamW
/// launches are only recorded until then), so that a timer around the step sees it all.
pub(crate) fn finish_step(opt: &mut AdamW, loss: Var, device: Device) -> anyhow::Result<()> {
    loss.backward();
    let norm = global_grad_norm(opt.params());
    opt.step(1e-4, clip_scale(norm, 1.0));
    sync_device(device)?;
    Ok(())
}

/// The median of `times` (sorted in place); `times` must not be empty.
pub(crate) fn median(times: &mut [f64]) -> f64 {
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

/// "12 threads" on the CPU, the device's name elsewhere.
pub(crate) fn threads_label(device: Device) -> String {
    if device == Device::Cpu {
        format!("{} threads", rayon::current_num_threads())
    } else {
        device.to_string()
    }
}

pub(crate) fn peak_rss_label() -> String {
    peak_rss_bytes().map_or("n/a".into(), |r| format!("{:.0} MiB", r as f64 / (1 << 20) as f64))
}

pub fn run(args: BenchTrainArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.batch > 0 && args.seq > 0 && args.steps > 0, "bench train: batch, seq and steps must be ≥ 1");
    let device = super::device::open_device(&args.device)?;
    let (config, model, mut opt) = random_model(&args.preset, args.seq, device)?;
    let mut rng = StdRng::seed_from_u64(0);
    let v = config.vocab_size as u32;
    let (b, t) = (args.batch, args.seq);
    let mut times = Vec::new();
    for step in 0..args.steps + 2 {
        let (inputs, targets) = random_windows(&mut rng, b, t, v);
        let start = Instant::now();
        finish_step(&mut opt, pretrain_loss(&model, inputs, targets, b, t), device)?;
        let elapsed = start.elapsed().as_secs_f64();
        if step >= 2 {
            times.push(elapsed);
        }
    }
    let median = median(&mut times);
    let tok_s = (b * t) as f64 / median;
    let gpu_peak = gpu_memory(device).map_or(String::new(), |m| {
        format!(", peak GPU memory {:.0} MiB (buffer pool)", m.peak_bytes as f64 / (1 << 20) as f64)
    });
    println!(
        "bench train: preset {} ({} params), batch {b}×{t}, {}, median step {:.1} ms over {} steps: {tok_s:.0} tok/s, peak RSS {}{gpu_peak}",
        args.preset,
        config.num_parameters(),
        threads_label(device),
        median * 1e3,
        times.len(),
        peak_rss_label(),
    );
    Ok(())
}
