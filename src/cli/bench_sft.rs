//! `llamaforge bench sft`: the supervised fine-tuning step of a preset on synthetic chat-like
//! examples — packed with `pack_examples`, batched with `masked_batch`, the loss on answer
//! tokens only (`masked_loss`), then backward, global-norm clipping and AdamW — timed step
//! by step, interleaved with the pretraining step of `bench train` at the same shape, so
//! the ratio of the two throughputs is measured under the same machine load.

use std::time::Instant;

use llamaforge_model::tokenizer::{BOS_ID, EOS_ID};
use llamaforge_training::data::{pack_examples, MaskedExample, PackedRows};
use llamaforge_training::stages::{masked_batch, masked_loss, PAD_ID};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::bench_train::{
    finish_step, median, peak_rss_label, pretrain_loss, random_model, random_windows, threads_label,
};

/// Arguments of `llamaforge bench sft`.
#[derive(clap::Args)]
pub struct BenchSftArgs {
    /// Model preset (random weights).
    #[arg(long, default_value = "260K")]
    preset: String,
    /// Packed rows per step.
    #[arg(long, default_value_t = 8)]
    batch: usize,
    /// Positions per row.
    #[arg(long, default_value_t = 512)]
    seq: usize,
    /// Timed steps of each kind (after 2 warm-up steps).
    #[arg(long, default_value_t = 10)]
    steps: usize,
    /// Share of each synthetic example that is answer (learned); the rest is prompt.
    #[arg(long, default_value_t = 0.6)]
    answer_fraction: f64,
    #[arg(long, default_value = "cpu", value_parser = super::device::parse_device, help = super::device::HELP)]
    device: String,
}

/// Chat-like examples of random ids with about `tokens` ids in all: `<s>`, a prompt (not
/// learned), then an answer ending in `</s>` (learned) making up `answer_fraction` of the
/// example. Lengths are uniform in [T/8, T/2] (at least 3), so whole examples pack several
/// to a row of `T + 1` and leave some padding, as real dialogues do. Ids stay clear of the
/// pad, BOS and EOS ids.
fn synthetic_examples(
    rng: &mut StdRng,
    tokens: usize,
    t: usize,
    vocab: u32,
    answer_fraction: f64,
) -> Vec<MaskedExample> {
    let lo = (t / 8).max(3);
    let hi = (t / 2).max(lo);
    let mut out = Vec::new();
    let mut total = 0;
    while total < tokens {
        let len = rng.random_range(lo..=hi);
        // BOS stays prompt, and at least the EOS is answer
        let answer = ((len as f64 * answer_fraction).round() as usize).clamp(1, len - 1);
        let mut ids: Vec<u32> = (0..len).map(|_| rng.random_range(EOS_ID + 1..vocab)).collect();
        ids[0] = BOS_ID;
        ids[len - 1] = EOS_ID;
        let learn = (0..len).map(|i| i >= len - answer).collect();
        out.push(MaskedExample { ids, learn });
        total += len;
    }
    out
}

pub fn run(args: BenchSftArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.batch > 0 && args.seq > 0 && args.steps > 0, "bench sft: batch, seq and steps must be ≥ 1");
    anyhow::ensure!(
        args.answer_fraction > 0.0 && args.answer_fraction <= 1.0,
        "bench sft: --answer-fraction must be in (0, 1], got {}",
        args.answer_fraction
    );
    let device = super::device::open_device(&args.device)?;
    // two identical models and optimizers, one per kind of step, so neither step sees the
    // other's updates or optimizer state
    let (config, sft_model, mut sft_opt) = random_model(&args.preset, args.seq, device)?;
    let (_, pre_model, mut pre_opt) = random_model(&args.preset, args.seq, device)?;
    anyhow::ensure!(config.vocab_size > 4, "bench sft: preset {} has too small a vocabulary", args.preset);
    let v = config.vocab_size as u32;
    let (b, t) = (args.batch, args.seq);

    // enough examples for every step's rows; a shortfall from padding is covered by
    // cycling through the rows (the data does not change the step's cost)
    let total_steps = args.steps + 2;
    let mut rng = StdRng::seed_from_u64(0);
    let examples = synthetic_examples(&mut rng, total_steps * b * (t + 1), t, v, args.answer_fraction);
    let packed: PackedRows = pack_examples(&examples, t, PAD_ID, 0);

    let (mut sft_times, mut pre_times) = (Vec::new(), Vec::new());
    let mut learned_timed = 0usize;
    for step in 0..total_steps {
        // alternate which step goes first, so neither always inherits the other's caches
        for is_sft in [step % 2 == 0, step % 2 == 1] {
            if is_sft {
                let rows: Vec<usize> = (0..b).map(|i| (step * b + i) % packed.rows).collect();
                // batching the packed rows is part of the SFT step, as building the
                // tensors is part of the pretraining one
                let start = Instant::now();
                let (ids, targets, learned) = masked_batch(&packed, &rows);
                finish_step(&mut sft_opt, masked_loss(&sft_model, &ids, &targets), device)?;
                if step >= 2 {
                    sft_times.push(start.elapsed().as_secs_f64());
                    learned_timed += learned;
                }
            } else {
                let (inputs, targets) = random_windows(&mut rng, b, t, v);
                let start = Instant::now();
                finish_step(&mut pre_opt, pretrain_loss(&pre_model, inputs, targets, b, t), device)?;
                if step >= 2 {
                    pre_times.push(start.elapsed().as_secs_f64());
                }
            }
        }
    }

    let (sft_median, pre_median) = (median(&mut sft_times), median(&mut pre_times));
    let fed = (b * t) as f64;
    let (sft_tok_s, pre_tok_s) = (fed / sft_median, fed / pre_median);
    let answers_per_step = learned_timed as f64 / sft_times.len() as f64;
    println!(
        "bench sft: preset {} ({} params), batch {b}×{t}, {}, {} examples packed into {} rows ({:.0}% of positions learned)",
        args.preset,
        config.num_parameters(),
        threads_label(device),
        examples.len(),
        packed.rows,
        100.0 * answers_per_step / fed,
    );
    println!(
        "  sft:      median step {:.1} ms over {} steps: {sft_tok_s:.0} tok/s, {:.0} answer tok/s",
        sft_median * 1e3,
        sft_times.len(),
        answers_per_step / sft_median,
    );
    println!(
        "  pretrain: median step {:.1} ms over {} steps: {pre_tok_s:.0} tok/s (same shape, interleaved)",
        pre_median * 1e3,
        pre_times.len(),
    );
    println!("  sft/pretrain tok/s: {:.3} (target ≥ 0.90), peak RSS {}", sft_tok_s / pre_tok_s, peak_rss_label());
    Ok(())
}
