//! `llamaforge tokenizer train|encode|decode`: trains a BPE tokenizer on a text file and
//! writes llama2.c's `tokenizer.bin` (or our JSON with `.json`), and applies one.

use std::path::{Path, PathBuf};

use anyhow::Context;
use llamaforge_model::tokenizer::{Tokenizer, TrainOptions};

/// Arguments of `llamaforge tokenizer`.
#[derive(clap::Args)]
pub struct TokenizerArgs {
    #[command(subcommand)]
    command: TokenizerCommand,
}

#[derive(clap::Subcommand)]
enum TokenizerCommand {
    /// Trains on a UTF-8 text file (stories separated by `<|endoftext|>` lines are
    /// separate documents).
    Train {
        #[arg(long)]
        input: PathBuf,
        /// Output: tokenizer.bin (llama2.c) or *.json.
        #[arg(long)]
        output: PathBuf,
        #[arg(long, default_value_t = 512)]
        vocab_size: usize,
    },
    /// Prints the ids of a text (with BOS), space-separated.
    Encode {
        #[arg(long)]
        tokenizer: PathBuf,
        #[arg(long)]
        text: String,
    },
    /// Prints the text of ids (spaces or commas between them).
    Decode {
        #[arg(long)]
        tokenizer: PathBuf,
        #[arg(long)]
        ids: String,
    },
}

fn is_json(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

fn load(path: &Path) -> anyhow::Result<Tokenizer> {
    let tokenizer = if is_json(path) { Tokenizer::load_json(path)? } else { Tokenizer::load_llama2c(path, None)? };
    Ok(tokenizer)
}

pub fn run(args: TokenizerArgs) -> anyhow::Result<()> {
    match args.command {
        TokenizerCommand::Train { input, output, vocab_size } => {
            let text =
                std::fs::read_to_string(&input).with_context(|| format!("reading {} as UTF-8", input.display()))?;
            let documents: Vec<&str> = text.split("<|endoftext|>").map(str::trim).filter(|d| !d.is_empty()).collect();
            let tokenizer = Tokenizer::train(&documents, vocab_size, &TrainOptions::default())?;
            if is_json(&output) {
                tokenizer.save_json(&output)?;
            } else {
                tokenizer.save_llama2c(&output)?;
            }
            println!(
                "trained {} pieces on {} documents; wrote {}",
                tokenizer.vocab_size(),
                documents.len(),
                output.display()
            );
        }
        TokenizerCommand::Encode { tokenizer, text } => {
            let ids = load(&tokenizer)?.encode(&text, true, false);
            println!("{}", ids.iter().map(u32::to_string).collect::<Vec<_>>().join(" "));
        }
        TokenizerCommand::Decode { tokenizer, ids } => {
            let tokenizer = load(&tokenizer)?;
            let ids = ids
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|s| !s.is_empty())
                .map(|s| s.parse::<u32>().with_context(|| format!("`{s}` is not a token id")))
                .collect::<anyhow::Result<Vec<u32>>>()?;
            if let Some(bad) = ids.iter().find(|&&id| id as usize >= tokenizer.vocab_size()) {
                anyhow::bail!("token id {bad} is outside the vocabulary of {}", tokenizer.vocab_size());
            }
            println!("{}", tokenizer.decode(&ids));
        }
    }
    Ok(())
}
