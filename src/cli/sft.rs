//! `llamaforge sft`: supervised fine-tuning with the loss on the assistant's tokens only.
//! With no arguments it fine-tunes llama2.c's stories260K model (data/stories260K.bin,
//! tokenizer data/tok512.bin) on the built-in instruction task and prints the gold scores
//! of its greedy answers on the held-out prompts before and after.

use std::path::PathBuf;

use anyhow::Context;
use llamaforge_training::stages::sft_job::{run_sft, SftJob};
use llamaforge_training::stages::FinetuneConfig;
use llamaforge_training::trainer::RunOptions;

use super::model_io::{BUNDLED_MODEL as DEFAULT_MODEL, BUNDLED_TOKENIZER as DEFAULT_TOKENIZER};

/// Flags shared by the fine-tuning commands (`sft`, `gatt`); each overrides the defaults
/// of [`FinetuneConfig`].
#[derive(clap::Args)]
pub struct FinetuneArgs {
    /// Model to fine-tune: native/HF checkpoint directory or llama2.c .bin.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// tokenizer.bin (default: in the model directory, beside the .bin, or data/tok512.bin for the default model).
    #[arg(long)]
    pub tokenizer: Option<PathBuf>,
    /// Run directory: checkpoint/, metrics.jsonl, eval.json.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Continue the run in --out from its last checkpoint.
    #[arg(long)]
    pub resume: bool,
    /// Positions per packed row.
    #[arg(long)]
    pub seq_len: Option<usize>,
    /// Rows per micro-batch.
    #[arg(long)]
    pub batch_size: Option<usize>,
    #[arg(long)]
    pub grad_accum: Option<usize>,
    /// Passes over the data (ignored when --steps is given).
    #[arg(long)]
    pub epochs: Option<f64>,
    #[arg(long)]
    pub steps: Option<u64>,
    /// Peak learning rate.
    #[arg(long)]
    pub lr: Option<f64>,
    #[arg(long)]
    pub warmup_steps: Option<u64>,
    #[arg(long)]
    pub weight_decay: Option<f64>,
    #[arg(long)]
    pub val_every: Option<u64>,
    #[arg(long)]
    pub seed: Option<u64>,
    #[arg(long, value_parser = super::device::parse_device, help = super::device::HELP)]
    pub device: Option<String>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

impl FinetuneArgs {
    /// The config: `defaults` with every given flag applied.
    pub fn config(&self, mut config: FinetuneConfig) -> FinetuneConfig {
        macro_rules! set {
            ($($field:ident = $arg:expr),* $(,)?) => { $(if let Some(v) = $arg.clone() { config.$field = v; })* };
        }
        set!(
            out = self.out,
            seq_len = self.seq_len,
            batch_size = self.batch_size,
            grad_accum = self.grad_accum,
            epochs = self.epochs,
            steps = self.steps,
            peak_lr = self.lr,
            warmup_steps = self.warmup_steps,
            val_every = self.val_every,
            seed = self.seed,
            device = self.device,
        );
        if let Some(wd) = self.weight_decay {
            config.adamw.weight_decay = wd;
        }
        config
    }

    /// The model path and tokenizer: the given ones, or the bundled stories260K model.
    pub fn model_and_tokenizer(&self) -> (PathBuf, Option<PathBuf>) {
        match &self.model {
            Some(m) => (m.clone(), self.tokenizer.clone()),
            None => (PathBuf::from(DEFAULT_MODEL), Some(self.tokenizer.clone().unwrap_or(DEFAULT_TOKENIZER.into()))),
        }
    }

    pub fn run_options(&self) -> RunOptions {
        RunOptions { resume: self.resume, max_steps_this_run: None, progress: !self.quiet }
    }
}

/// Arguments of `llamaforge sft`.
#[derive(clap::Args)]
pub struct SftArgs {
    #[command(flatten)]
    pub common: FinetuneArgs,
    /// Training dialogues (JSONL: `messages`, `prompt`/`response` or `question`/`answer`);
    /// default: the built-in instruction task generated from data/tinystories_sample.txt.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Held-out dialogues for validation and the gold evaluation (default: the task's
    /// held-out prompts, or the last 5% of --data).
    #[arg(long)]
    pub heldout: Option<PathBuf>,
    /// Seed of the built-in task.
    #[arg(long, default_value_t = 1234)]
    pub task_seed: u64,
}

pub fn run(args: SftArgs) -> anyhow::Result<()> {
    let config = args.common.config(FinetuneConfig::default());
    let (model, tokenizer) = args.common.model_and_tokenizer();
    let job = SftJob {
        model,
        tokenizer,
        data: args.data.clone(),
        heldout: args.heldout.clone(),
        config: config.clone(),
        task_seed: args.task_seed,
        skip_eval: false,
    };
    eprintln!("run directory: {}", config.out.display());
    let report = run_sft(&job, &args.common.run_options(), &|line| eprintln!("{line}"))
        .map_err(anyhow::Error::msg)
        .with_context(|| format!("fine-tuning into {}", config.out.display()))?;
    if let Some(reason) = &report.summary.stopped_early {
        eprintln!("{reason}");
    }
    eprintln!(
        "done: {} steps, train loss {:.4}, held-out answer loss {}, {:.0} tokens/s",
        report.steps,
        report.final_loss,
        report.val_loss.map_or("n/a".into(), |v| format!("{v:.4}")),
        report.tokens_per_s
    );
    super::eval::print_gold_table(report.before.as_ref(), report.after.as_ref());
    eprintln!(
        "checkpoint: {0}/checkpoint   metrics: {0}/metrics.jsonl   gold answers: {0}/eval.json",
        config.out.display()
    );
    eprintln!("try it: llamaforge chat --model {}/checkpoint --temperature 0", config.out.display());
    Ok(())
}
