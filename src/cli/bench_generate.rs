//! `llamaforge bench generate`: single-stream greedy decoding speed (tokens/s) on the CPU,
//! random weights of a preset or a real checkpoint. Peer: llama2.c `run.c` (OpenMP, 2
//! threads) at 612 tok/s on the 15M shape.

use std::path::PathBuf;
use std::time::Instant;

use llamaforge_model::generate::{generate, GenerateOptions, InferenceModel, Sampling};
use llamaforge_model::{preset, Llama};

/// Arguments of `llamaforge bench generate`.
#[derive(clap::Args)]
pub struct BenchGenerateArgs {
    /// Model preset with random weights (tiny, 260K, 15M, 42M, 110M).
    #[arg(long, default_value = "15M")]
    preset: String,
    /// A checkpoint (native/HF directory or llama2.c .bin) instead of a preset.
    #[arg(long)]
    model: Option<PathBuf>,
    /// Tokens to generate per run (capped by the model's max_seq_len).
    #[arg(long, default_value_t = 256)]
    tokens: usize,
    /// Timed runs (the best is reported), after one warm-up run.
    #[arg(long, default_value_t = 3)]
    runs: usize,
}

pub fn run(args: BenchGenerateArgs) -> anyhow::Result<()> {
    let (model, what) = match &args.model {
        Some(path) => {
            let (checkpoint, _) = llamaforge_model::checkpoint::load_model(path)?;
            (InferenceModel::from_weights(&checkpoint.config, &checkpoint.weights)?, path.display().to_string())
        }
        None => {
            let config = preset(&args.preset)?;
            (InferenceModel::from_llama(&Llama::new_random(&config, 0)?), format!("preset {} (random)", args.preset))
        }
    };
    let max_new = args.tokens.min(model.config.max_seq_len);
    let options = GenerateOptions { max_new_tokens: max_new, sampling: Sampling::Greedy, seed: 0, stop_tokens: vec![] };
    let prompt = vec![vec![1u32]];
    generate(&model, &prompt, &GenerateOptions { max_new_tokens: max_new.min(16), ..options.clone() })?;
    let mut best = 0.0f64;
    for _ in 0..args.runs.max(1) {
        let start = Instant::now();
        let out = generate(&model, &prompt, &options)?;
        let rate = out[0].tokens.len() as f64 / start.elapsed().as_secs_f64();
        best = best.max(rate);
    }
    println!(
        "bench generate: {what}, {} params, {max_new} tokens from BOS, greedy, 1 stream, {} threads: {best:.0} tok/s",
        model.config.num_parameters(),
        std::thread::available_parallelism().map_or(1, |n| n.get()),
    );
    Ok(())
}
