//! `llamaforge gatt`: Ghost Attention — teaches a chat model to keep a system instruction
//! for a whole dialogue, and measures adherence by turn before and after. With no
//! arguments it starts from the default SFT run's checkpoint (runs/sft/checkpoint).

use std::path::PathBuf;

use anyhow::Context;
use llamaforge_training::stages::gatt::GattOptions;
use llamaforge_training::stages::gatt_job::{default_gatt_config, fmt_turns, run_gatt, GattJob};

use super::sft::FinetuneArgs;

/// The model GAtt starts from when `--model` is not given.
pub const DEFAULT_MODEL: &str = "runs/sft/checkpoint";

/// Arguments of `llamaforge gatt`.
#[derive(clap::Args)]
pub struct GattArgs {
    #[command(flatten)]
    pub common: FinetuneArgs,
    /// User turns per dialogue.
    #[arg(long)]
    pub turns: Option<usize>,
    /// Training dialogues sampled with the model.
    #[arg(long)]
    pub dialogues: Option<usize>,
    /// Held-out dialogues for adherence by turn.
    #[arg(long)]
    pub eval_dialogues: Option<usize>,
}

pub fn run(args: GattArgs) -> anyhow::Result<()> {
    let config = args.common.config(default_gatt_config());
    let model = args.common.model.clone().unwrap_or_else(|| PathBuf::from(DEFAULT_MODEL));
    if !model.exists() {
        anyhow::bail!("{} does not exist: run `llamaforge sft` first, or pass --model CKPT", model.display());
    }
    let mut options =
        GattOptions { seed: args.common.seed.unwrap_or(GattOptions::default().seed), ..GattOptions::default() };
    if let Some(t) = args.turns {
        options.turns = t;
    }
    if let Some(d) = args.dialogues {
        options.dialogues = d;
    }
    if let Some(d) = args.eval_dialogues {
        options.eval_dialogues = d;
    }
    anyhow::ensure!(
        options.turns > 0 && options.dialogues > 0 && options.eval_dialogues > 0,
        "--turns, --dialogues and --eval-dialogues must be ≥ 1"
    );
    let job = GattJob { model, tokenizer: args.common.tokenizer.clone(), config: config.clone(), options };
    eprintln!("run directory: {}", config.out.display());
    let report = run_gatt(&job, &args.common.run_options(), &|line| eprintln!("{line}"))
        .map_err(anyhow::Error::msg)
        .with_context(|| format!("Ghost Attention into {}", config.out.display()))?;
    if let Some(reason) = &report.summary.stopped_early {
        eprintln!("{reason}");
    }
    println!(
        "| adherence by turn | {} |",
        (1..=report.before.by_turn.len()).map(|t| t.to_string()).collect::<Vec<_>>().join(" | ")
    );
    println!("| --- |{}", " --- |".repeat(report.before.by_turn.len()));
    println!("| before GAtt | {} |", fmt_turns(&report.before.by_turn).replace(' ', " | "));
    if let Some(after) = &report.after {
        println!("| after GAtt | {} |", fmt_turns(&after.by_turn).replace(' ', " | "));
    }
    eprintln!(
        "checkpoint: {0}/checkpoint   figure: {0}/attention_system.svg   report: {0}/gatt_eval.json",
        config.out.display()
    );
    Ok(())
}
