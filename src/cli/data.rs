//! `llamaforge data instruct`: builds the verifiable instruction task (story prompts with
//! gold answers and unsafe prompts with gold refusals) from the bundled stories and writes
//! it as dialogue JSONL for SFT, GAtt and the later stages.

use std::path::PathBuf;

use anyhow::Context;
use llamaforge_training::data::load_documents;
use llamaforge_training::task::{build_instruct_task, mean_scores, write_dialogues, Example, TaskOptions};

/// Arguments of `llamaforge data`.
#[derive(clap::Args)]
pub struct DataArgs {
    #[command(subcommand)]
    command: DataCommand,
}

#[derive(clap::Subcommand)]
enum DataCommand {
    /// Writes DIR/train.jsonl and DIR/heldout.jsonl: the instruction task with gold answers.
    Instruct {
        /// Output directory (created if missing).
        #[arg(long, default_value = "runs/instruct")]
        out: PathBuf,
        #[arg(long, default_value_t = TaskOptions::default().seed)]
        seed: u64,
        /// Stories separated by `<|endoftext|>` lines (or JSONL with a "text" field).
        #[arg(long, default_value = "data/tinystories_sample.txt")]
        data: PathBuf,
        /// Train + held-out examples.
        #[arg(long, default_value_t = TaskOptions::default().examples)]
        examples: usize,
    },
}

pub fn run(args: DataArgs) -> anyhow::Result<()> {
    match args.command {
        DataCommand::Instruct { out, seed, data, examples } => {
            let stories = load_documents(&data, "text")?;
            let options = TaskOptions { seed, examples, ..TaskOptions::default() };
            let task = build_instruct_task(&stories, &options);
            if task.train.iter().all(|e| e.spec.is_safety()) {
                anyhow::bail!("{}: no story can serve as a gold answer (too short or no topic words)", data.display());
            }
            std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
            for (name, examples) in [("train.jsonl", &task.train), ("heldout.jsonl", &task.heldout)] {
                let path = out.join(name);
                write_dialogues(&path, examples).with_context(|| format!("writing {}", path.display()))?;
            }
            let split = |examples: &[Example]| {
                let safety = examples.iter().filter(|e| e.spec.is_safety()).count();
                (examples.len() - safety, safety)
            };
            let (train_helpful, train_safety) = split(&task.train);
            let (held_helpful, held_safety) = split(&task.heldout);
            println!(
                "train: {} examples ({train_helpful} helpful, {train_safety} safety) -> {}",
                task.train.len(),
                out.join("train.jsonl").display()
            );
            println!(
                "heldout: {} examples ({held_helpful} helpful, {held_safety} safety) -> {}",
                task.heldout.len(),
                out.join("heldout.jsonl").display()
            );
            // the judges on the gold answers: a quick check that data and judges agree
            let gold = mean_scores(task.heldout.iter().map(|e| (&e.spec, e.answer())));
            println!("heldout gold answers: helpfulness {:.3}, safety {:.3}", gold.helpfulness, gold.safety);
            Ok(())
        }
    }
}
