//! `llamaforge chat`: interactive multi-turn chat in the LLaMA-2-chat template. Each stdin
//! line is a user turn; the whole dialog is re-encoded and the answer sampled until EOS.
//! `/reset` starts a new dialog, `/quit` (or end of input) ends. When the dialog no longer
//! fits the model's context, the oldest turns are dropped (the system message is kept,
//! folded into the first remaining turn, as the template does).

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use llamaforge_model::chat::{encode_chat, Message};
use llamaforge_model::generate::{GenerateOptions, Sampling};

use super::engine::Engine;
use super::model_io::{load_checkpoint, load_tokenizer_for};

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
    #[arg(long, default_value = "cpu", value_parser = super::device::parse_device, help = super::device::GENERATE_HELP)]
    device: String,
}

pub fn run(args: ChatArgs) -> anyhow::Result<()> {
    let checkpoint = load_checkpoint(&args.model)?;
    let max_seq_len = checkpoint.config.max_seq_len;
    let tokenizer = load_tokenizer_for(&args.model, args.tokenizer.as_deref())?;
    let device = super::device::open_device(&args.device)?;
    let engine = Engine::open(checkpoint, device)?;
    let system: Vec<Message> = args.system.iter().map(Message::system).collect();
    // user/assistant messages of the dialog, oldest first
    let mut turns: Vec<Message> = Vec::new();
    let encode = |text: &str| tokenizer.encode(text);
    // room an answer needs: what was asked for, but never the whole context
    let answer_room = args.max_tokens.clamp(1, (max_seq_len / 2).max(1));
    eprintln!("chat: type a message and press Enter; /reset starts over, /quit or Ctrl-D ends");
    let stdin = std::io::stdin();
    let interactive = stdin.is_terminal();
    let mut stdout = std::io::stdout();
    let mut lines = stdin.lock().lines();
    for turn in 0u64.. {
        if interactive {
            eprint!("you> ");
        }
        let Some(line) = lines.next() else { break };
        let line = line?;
        let line = line.trim();
        match line {
            "" => continue,
            "/quit" | "/exit" => break,
            "/reset" => {
                turns.clear();
                eprintln!("chat: new dialog");
                continue;
            }
            _ => {}
        }
        turns.push(Message::user(line));
        // drop the oldest exchanges until the prompt leaves room for an answer
        let prompt = loop {
            let dialog: Vec<Message> = system.iter().chain(&turns).cloned().collect();
            let ids = encode_chat(&dialog, &encode, tokenizer.bos(), tokenizer.eos())?.ids;
            if ids.len() + answer_room <= max_seq_len {
                break Some(ids);
            }
            if turns.len() <= 1 {
                break None;
            }
            turns.drain(..2);
            eprintln!("chat: the dialog outgrew the {max_seq_len}-token context; dropped the oldest exchange");
        };
        let Some(prompt) = prompt else {
            turns.pop();
            eprintln!(
                "chat: that message does not fit the model's {max_seq_len}-token context with room for an answer; \
                 try a shorter one"
            );
            continue;
        };
        let options = GenerateOptions {
            max_new_tokens: args.max_tokens,
            sampling: Sampling::from_temperature(args.temperature, args.top_p),
            seed: args.seed.wrapping_add(turn),
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
        turns.push(Message::assistant(text));
    }
    if interactive {
        eprintln!();
    }
    Ok(())
}
