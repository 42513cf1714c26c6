//! `llamaforge generate`: continues a prompt with a checkpoint (greedy, or temperature and
//! top-p with a seed), streaming the text llama2.c-style.

use std::io::Write;
use std::path::PathBuf;

use llamaforge_model::generate::{GenerateOptions, Sampling};

use super::engine::Engine;
use super::model_io::{load_checkpoint, load_tokenizer_for};

/// Arguments of `llamaforge generate`.
#[derive(clap::Args)]
pub struct GenerateArgs {
    /// Native/HF checkpoint directory or llama2.c .bin file.
    #[arg(long)]
    model: PathBuf,
    /// tokenizer.bin (default: inside the model directory or next to the .bin file).
    #[arg(long)]
    tokenizer: Option<PathBuf>,
    /// Text to continue (empty: start from BOS alone).
    #[arg(long, default_value = "")]
    prompt: String,
    /// 0 = greedy.
    #[arg(long, default_value_t = 1.0)]
    temperature: f32,
    /// Nucleus sampling mass (1 = off).
    #[arg(long, default_value_t = 0.9)]
    top_p: f32,
    /// Most tokens to generate (capped by the model's context).
    #[arg(long, default_value_t = 256)]
    max_tokens: usize,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    #[arg(long, default_value = "cpu", value_parser = super::device::parse_device, help = super::device::GENERATE_HELP)]
    device: String,
}

pub fn run(args: GenerateArgs) -> anyhow::Result<()> {
    let checkpoint = load_checkpoint(&args.model)?;
    let tokenizer = load_tokenizer_for(&args.model, args.tokenizer.as_deref())?;
    let device = super::device::open_device(&args.device)?;
    let engine = Engine::open(checkpoint, device)?;
    let prompt = if args.prompt.is_empty() { vec![tokenizer.bos()] } else { tokenizer.encode_with_bos(&args.prompt) };
    let options = GenerateOptions {
        max_new_tokens: args.max_tokens,
        sampling: Sampling::from_temperature(args.temperature, args.top_p),
        seed: args.seed,
        // llama2.c's models end a story with BOS; chat models with EOS
        stop_tokens: vec![tokenizer.bos(), tokenizer.eos()],
    };
    let start = std::time::Instant::now();
    let (tokens, finish) = engine.generate(&prompt, &options)?;
    let mut text = Vec::new();
    let mut prev = *prompt.last().expect("prompt starts with BOS");
    for (i, &p) in prompt.iter().enumerate().skip(1) {
        text.extend(tokenizer.piece(prompt[i - 1], p));
    }
    for &token in tokens.iter().filter(|&&t| t != tokenizer.bos() && t != tokenizer.eos()) {
        text.extend(tokenizer.piece(prev, token));
        prev = token;
    }
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&text)?;
    writeln!(stdout)?;
    eprintln!(
        "{} tokens in {:.2}s ({:.0} tok/s), finished: {:?}",
        tokens.len(),
        start.elapsed().as_secs_f64(),
        tokens.len() as f64 / start.elapsed().as_secs_f64(),
        finish
    );
    Ok(())
}
