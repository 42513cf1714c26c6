//! `llamaforge pretrain`: trains a LLaMA-2 from scratch. With no arguments it trains the
//! 260K preset on data/tinystories_sample.txt (training a 512-token tokenizer first) and
//! prints a sample story. `--device gpu` trains on the GPU (the config's `device` field).

use std::path::PathBuf;

use anyhow::Context;
use llamaforge_training::pretrain::{pretrain, PretrainConfig, RunOptions};

/// Arguments of `llamaforge pretrain`; each flag overrides the config file (if given),
/// which overrides the defaults.
#[derive(clap::Args)]
pub struct PretrainArgs {
    /// JSON run config (the fields of run_config.json); flags override it.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Model preset: tiny, 260K, 15M, 42M, 110M.
    #[arg(long)]
    preset: Option<String>,
    /// Corpus: text with <|endoftext|> separator lines, or .jsonl.
    #[arg(long)]
    data: Option<PathBuf>,
    /// JSONL field holding the text.
    #[arg(long)]
    text_field: Option<String>,
    /// Run directory.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Continue the run in DIR from its last checkpoint (its run_config.json is reused).
    #[arg(long, value_name = "DIR")]
    resume: Option<PathBuf>,
    /// Tokenizer (.json or llama2.c .bin); trained on the data if absent.
    #[arg(long)]
    tokenizer: Option<PathBuf>,
    /// Vocabulary size of a tokenizer trained here.
    #[arg(long)]
    vocab_size: Option<usize>,
    #[arg(long)]
    seq_len: Option<usize>,
    #[arg(long)]
    batch_size: Option<usize>,
    /// Micro-batches per optimizer step.
    #[arg(long)]
    grad_accum: Option<usize>,
    #[arg(long)]
    steps: Option<u64>,
    /// Peak learning rate.
    #[arg(long)]
    lr: Option<f64>,
    #[arg(long)]
    warmup_steps: Option<u64>,
    #[arg(long)]
    weight_decay: Option<f64>,
    /// Global gradient-norm clip (0 disables).
    #[arg(long)]
    grad_clip: Option<f64>,
    #[arg(long)]
    val_every: Option<u64>,
    #[arg(long)]
    checkpoint_every: Option<u64>,
    #[arg(long)]
    seed: Option<u64>,
    /// Tokens of the sample printed at the end (0: none).
    #[arg(long)]
    sample_tokens: Option<usize>,
    #[arg(long, value_parser = super::device::parse_device, help = super::device::HELP)]
    device: Option<String>,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

pub fn run(args: PretrainArgs) -> anyhow::Result<()> {
    let mut config = match (&args.resume, &args.config) {
        (Some(dir), _) => PretrainConfig::from_json_file(&dir.join("run_config.json")).map_err(anyhow::Error::msg)?,
        (None, Some(path)) => PretrainConfig::from_json_file(path).map_err(anyhow::Error::msg)?,
        (None, None) => PretrainConfig::default(),
    };
    macro_rules! set {
        ($($field:ident = $arg:expr),* $(,)?) => { $(if let Some(v) = $arg { config.$field = v; })* };
    }
    set!(
        preset = args.preset,
        data = args.data,
        text_field = args.text_field,
        out = args.out,
        vocab_size = args.vocab_size,
        seq_len = args.seq_len,
        batch_size = args.batch_size,
        grad_accum = args.grad_accum,
        steps = args.steps,
        peak_lr = args.lr,
        warmup_steps = args.warmup_steps,
        grad_clip = args.grad_clip,
        val_every = args.val_every,
        checkpoint_every = args.checkpoint_every,
        seed = args.seed,
        sample_tokens = args.sample_tokens,
        device = args.device,
    );
    if let Some(t) = args.tokenizer {
        config.tokenizer = Some(t);
    }
    if let Some(wd) = args.weight_decay {
        config.adamw.weight_decay = wd;
    }
    if let Some(dir) = &args.resume {
        config.out = dir.clone();
    }
    let options = RunOptions { resume: args.resume.is_some(), max_steps_this_run: None, progress: !args.quiet };
    eprintln!("run directory: {}", config.out.display());
    let summary = pretrain(&config, &options, &|line| eprintln!("{line}"))
        .map_err(anyhow::Error::msg)
        .with_context(|| format!("pretraining into {}", config.out.display()))?;
    if let Some(reason) = &summary.stopped_early {
        eprintln!("{reason}");
    }
    eprintln!(
        "done: {} steps, train loss {:.4}, val loss {}, {:.0} tokens/s",
        summary.steps_done,
        summary.last_loss,
        summary.val_loss.map_or("n/a".into(), |v| format!("{v:.4}")),
        summary.tokens_per_s
    );
    eprintln!("checkpoint: {}/checkpoint   metrics: {}/metrics.jsonl", config.out.display(), config.out.display());
    if let Some(sample) = summary.sample {
        println!("\n--- sample story ---\n{sample}\n");
    }
    Ok(())
}
