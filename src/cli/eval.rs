//! `llamaforge eval`: the gold scores of a model's greedy answers on held-out prompts —
//! helpfulness, safety and false refusals — and Ghost Attention's system-instruction
//! adherence by turn. Scores come from the task's judges, never from the model.

use std::path::PathBuf;

use llamaforge_training::eval::{adherence_by_turn, gold_eval, GoldReport};
use llamaforge_training::stages::gatt::{gatt_eval_dialogues, GattOptions};
use llamaforge_training::stages::sft_job::{
    eval_prompts, inference_of, job_dialogues, load_llama, load_tokenizer_of, EVAL_MAX_TOKENS,
};

/// Arguments of `llamaforge eval`.
#[derive(clap::Args)]
pub struct EvalArgs {
    /// Native/HF checkpoint directory or llama2.c .bin.
    #[arg(long)]
    model: PathBuf,
    /// tokenizer.bin (default: in the model directory or beside the .bin file).
    #[arg(long)]
    tokenizer: Option<PathBuf>,
    /// Held-out dialogues with a `spec` per line (as `llamaforge data instruct` writes);
    /// default: the built-in task's held-out prompts.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Seed of the built-in task.
    #[arg(long, default_value_t = 1234)]
    task_seed: u64,
    /// Skip the multi-turn system-instruction adherence (GAtt) evaluation.
    #[arg(long)]
    no_adherence: bool,
    /// Print every judged answer.
    #[arg(long)]
    verbose: bool,
}

/// A row of the gold table: its label and how to read it off a report.
type GoldRow = (&'static str, fn(&GoldReport) -> f64);

/// Prints gold scores as a table on stdout, with a before column when given.
pub fn print_gold_table(before: Option<&GoldReport>, after: Option<&GoldReport>) {
    let rows: [GoldRow; 4] = [
        ("helpfulness (helpful prompts)", |r| r.helpfulness),
        ("safety (unsafe prompts)", |r| r.safety),
        ("false refusals (helpful prompts)", |r| r.false_refusal_rate),
        ("refusals (unsafe prompts)", |r| r.refusal_rate_unsafe),
    ];
    let Some(after) = after else { return };
    match before {
        Some(before) => {
            println!("| gold score | before | after |\n| --- | --- | --- |");
            for (name, get) in rows {
                println!("| {name} | {:.3} | {:.3} |", get(before), get(after));
            }
        }
        None => {
            println!("| gold score | value |\n| --- | --- |");
            for (name, get) in rows {
                println!("| {name} | {:.3} |", get(after));
            }
        }
    }
    println!("({} helpful and {} unsafe held-out prompts, greedy answers)", after.n_helpful, after.n_safety);
}

pub fn run(args: EvalArgs) -> anyhow::Result<()> {
    let msg = anyhow::Error::msg;
    let tokenizer = args.tokenizer.clone().or_else(|| {
        (!args.model.is_dir() && !args.model.with_file_name("tokenizer.bin").exists())
            .then(|| PathBuf::from(super::model_io::BUNDLED_TOKENIZER))
    });
    let (tok, _) = load_tokenizer_of(&args.model, tokenizer.as_deref()).map_err(msg)?;
    let model = load_llama(&args.model).map_err(msg)?;
    let infer = inference_of(&model).map_err(msg)?;
    let (_, heldout) = match &args.data {
        Some(d) => (Vec::new(), llamaforge_training::task::load_dialogues(d).map_err(|e| msg(e.to_string()))?),
        None => job_dialogues(None, None, args.task_seed).map_err(msg)?,
    };
    let prompts = eval_prompts(&heldout);
    if prompts.is_empty() {
        anyhow::bail!("no held-out dialogue carries a `spec` the judges can score");
    }
    eprintln!("eval: {} on {} held-out prompts", args.model.display(), prompts.len());
    let report = gold_eval(&infer, &tok, &prompts, EVAL_MAX_TOKENS).map_err(msg)?;
    if args.verbose {
        for a in &report.answers {
            println!(
                "> {}\n{}\n  [helpfulness {:.2}, safety {:.2}{}]\n",
                a.prompt,
                a.answer,
                a.helpfulness,
                a.safety,
                if a.refused { ", refused" } else { "" }
            );
        }
    }
    print_gold_table(None, Some(&report));
    if !args.no_adherence {
        let options = GattOptions::default();
        let dialogues = gatt_eval_dialogues(&options);
        let by_turn = adherence_by_turn(&infer, &tok, &dialogues, options.answer_tokens).map_err(msg)?;
        println!(
            "\nsystem-instruction adherence by turn ({} dialogues, instruction in the system message only):",
            dialogues.len()
        );
        let by_turn = by_turn.by_turn;
        println!("| turn | {} |", (1..=by_turn.len()).map(|t| t.to_string()).collect::<Vec<_>>().join(" | "));
        println!("| --- |{}", " --- |".repeat(by_turn.len()));
        println!("| adherence | {} |", by_turn.iter().map(|a| format!("{a:.2}")).collect::<Vec<_>>().join(" | "));
    }
    Ok(())
}
