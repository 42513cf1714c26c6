//! `llamaforge convert`: between the native directory, an HF directory and llama2.c .bin.

use std::path::PathBuf;

use anyhow::Context;
use llamaforge_model::checkpoint::{save_hf_dir, save_llama2c, save_native};

use super::model_io::{find_tokenizer_file, load_checkpoint};

/// Target format of `convert`.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// Directory: config.json + model.safetensors + tokenizer.bin.
    Native,
    /// Directory: config.json + model.safetensors (HF LlamaForCausalLM).
    Hf,
    /// llama2.c legacy .bin file (tokenizer.bin is copied next to it when known).
    Llama2c,
}

/// Arguments of `llamaforge convert`.
#[derive(clap::Args)]
pub struct ConvertArgs {
    /// Source: native/HF directory or llama2.c .bin file.
    #[arg(long)]
    input: PathBuf,
    /// Destination directory (native, hf) or file (llama2c).
    #[arg(long)]
    output: PathBuf,
    /// Destination format.
    #[arg(long, value_enum)]
    to: Format,
    /// tokenizer.bin (default: inside the input directory or next to the input .bin).
    #[arg(long)]
    tokenizer: Option<PathBuf>,
}

pub fn run(args: ConvertArgs) -> anyhow::Result<()> {
    let checkpoint = load_checkpoint(&args.input)?;
    let tokenizer = find_tokenizer_file(&args.input, args.tokenizer.as_deref());
    match args.to {
        Format::Native => {
            let tok = tokenizer.context("native checkpoints carry the tokenizer: pass --tokenizer tokenizer.bin")?;
            let bytes = std::fs::read(&tok).with_context(|| format!("reading {}", tok.display()))?;
            save_native(&args.output, &checkpoint, &bytes, 1, 2)?;
        }
        Format::Hf => save_hf_dir(&args.output, &checkpoint, 1, 2)?,
        Format::Llama2c => {
            save_llama2c(&args.output, &checkpoint)?;
            if let Some(tok) = tokenizer {
                let dest = args.output.with_file_name("tokenizer.bin");
                if dest != tok {
                    std::fs::copy(&tok, &dest)
                        .with_context(|| format!("copying {} to {}", tok.display(), dest.display()))?;
                }
            }
        }
    }
    println!("wrote {}", args.output.display());
    Ok(())
}
