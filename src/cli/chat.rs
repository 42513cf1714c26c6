//! `llamaforge chat`: interactive multi-turn chat in the LLaMA-2-chat template. Each stdin
//! line is a user turn; the whole dialog is re-encoded and the answer sampled until EOS.

use std::io::{BufRead, Write};
use std::path::PathBuf;

use llamaforge_model::chat::{encode_chat, Message};
use llamaforge_model::generate::{GenerateOptions, Sampling};

use super::engine::Engine;
use super::model_io::{load_checkpoint, load_tokenizer_for};

/// `--device` of generate and chat: the GPU path has no KV cache yet.
const DEVICE_HELP: &str = "Device: cpu (KV-cached inference), gpu / gpu:N (the training forward re-run over the \
    whole sequence for every token on the GPU — no KV cache yet, so slower than cpu for small models), or auto";

/// Arguments of `llamaforge chat`.
#[derive(clap::Args)]
pub struct ChatArgs {
    /// Native/HF checkpoint directory or llama2.c .bin file.
    #[arg(long)]
    model: PathBuf,
    /// tokenizer.bin (default: inside the model directory or next to the .bin file).
    #[arg(long)]
    tokenizer: Option<PathBuf>,
    /// System prompt, folded into the first user turn.
    #[arg(long)]
    system: Option<String>,
    /// 0 = greedy.
    #[arg(long, default_value_t = 0.7)]
    temperature: f32,
    #[arg(long, default_value_t = 0.9)]
    top_p: f32,
    /// Most tokens per answer.
    #[arg(long, default_value_t = 256)]
    max_tokens: usize,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    #[arg(long, default_value = "cpu", value_parser = super::device::parse_device, help = DEVICE_HELP)]
    device: String,
}

pub fn run(args: ChatArgs) -> anyhow::Result<()> {
    let checkpoint = load_checkpoint(&args.model)?;
    let tokenizer = load_tokenizer_for(&args.model, args.tokenizer.as_deref())?;
    let device = super::device::open_device(&args.device)?;
    let engine = Engine::open(checkpoint, device)?;
    let mut dialog: Vec<Message> = args.system.iter().map(Message::system).collect();
    let encode = |text: &str| tokenizer.encode(text);
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout();
    for (turn, line) in stdin.lock().lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        dialog.push(Message::user(line));
        let prompt = encode_chat(&dialog, &encode, tokenizer.bos(), tokenizer.eos())?.ids;
        let options = GenerateOptions {
            max_new_tokens: args.max_tokens,
            sampling: Sampling::from_temperature(args.temperature, args.top_p),
            seed: args.seed.wrapping_add(turn as u64),
            stop_tokens: vec![tokenizer.eos()],
        };
        let (answer, _) = engine.generate(&prompt, &options)?;
        let mut bytes = Vec::new();
        let mut prev = tokenizer.bos();
        for &t in answer.iter().filter(|&&t| t != tokenizer.eos()) {
            bytes.extend(tokenizer.piece(prev, t));
            prev = t;
        }
        let text = String::from_utf8_lossy(&bytes).trim().to_string();
        writeln!(stdout, "assistant: {text}")?;
        stdout.flush()?;
        dialog.push(Message::assistant(text));
    }
    Ok(())
}
