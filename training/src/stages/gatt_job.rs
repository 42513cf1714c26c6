//! `llamaforge gatt` end to end: adherence by turn before, GAtt data sampled with the
//! model itself, fine-tuning on it, adherence after, and the attention figure. Saves
//! `RUN/gatt_eval.json`, `RUN/gatt_train.jsonl` (the sampled dialogues, as trained) and
//! `RUN/attention_system.svg`.

use std::path::{Path, PathBuf};

use llamaforge_model::Llama;
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde::Serialize;

use super::finetune::{finetune, FinetuneConfig};
use super::gatt::{
    figure_dialogue, gatt_eval_dialogues, gatt_examples, sample_gatt_dialogues, training_messages, GattOptions,
};
use super::sft_job::{inference_of, load_llama, load_tokenizer_of, DEFAULT_STORIES};
use crate::eval::{adherence_by_turn, attention_heatmap_svg, AdherenceReport};
use crate::task::{dialogue_line, SentenceBank};
use crate::trainer::{RunOptions, TrainSummary};

/// What `llamaforge gatt` runs.
#[derive(Clone, Debug)]
pub struct GattJob {
    /// The model to teach (a chat model, e.g. the SFT checkpoint).
    pub model: PathBuf,
    pub tokenizer: Option<PathBuf>,
    pub config: FinetuneConfig,
    pub options: GattOptions,
}

/// The default fine-tuning config of GAtt: the SFT defaults with three epochs over the
/// sampled dialogues (each example learns one answer, so there is little to learn per
/// row), into runs/gatt. Measured on the default run: 2 epochs at lr 1e-3 reached 0.33
/// turn-5 adherence, 3 epochs at 2e-3 0.44.
pub fn default_gatt_config() -> FinetuneConfig {
    FinetuneConfig { out: PathBuf::from("runs/gatt"), epochs: 3.0, peak_lr: 2e-3, ..FinetuneConfig::default() }
}

/// What the run did, as saved in `RUN/gatt_eval.json`.
#[derive(Clone, Debug, Serialize)]
pub struct GattReport {
    pub dialogues: usize,
    pub examples: usize,
    /// Examples dropped because they exceed the context.
    pub dropped: usize,
    pub before: AdherenceReport,
    pub after: Option<AdherenceReport>,
    /// Per layer, the mean attention mass on the system message from the positions of
    /// turns 2–8 of the figure's dialogue, before and after.
    pub system_attention_before: Vec<f32>,
    pub system_attention_after: Vec<f32>,
    pub steps: u64,
    pub final_loss: f64,
    pub tokens_per_s: f64,
    #[serde(skip)]
    pub summary: TrainSummary,
}

/// Runs the job.
pub fn run_gatt(job: &GattJob, run_options: &RunOptions, log: &dyn Fn(&str)) -> Result<GattReport, String> {
    let (tok, tokenizer_bin) = load_tokenizer_of(&job.model, job.tokenizer.as_deref())?;
    let base: Llama = load_llama(&job.model)?;
    let context = base.config.max_seq_len;
    let needed = job.options.turns * (job.options.answer_tokens + 24);
    if needed > context {
        return Err(format!(
            "{} turns of up to {} answer tokens need about {needed} positions; {} has a {context}-token context \
             (use a model with a longer context or fewer --turns)",
            job.options.turns,
            job.options.answer_tokens,
            job.model.display()
        ));
    }
    let eval = gatt_eval_dialogues(&job.options);
    let infer = inference_of(&base)?;
    let before = adherence_by_turn(&infer, &tok, &eval, job.options.answer_tokens)?;
    log(&format!("gatt: adherence by turn before: {}", fmt_turns(&before.by_turn)));

    let stories = crate::data::load_documents(Path::new(DEFAULT_STORIES), "text").map_err(|e| e.to_string())?;
    let bank = SentenceBank::new(&stories);
    log(&format!(
        "gatt: sampling {} dialogues of {} turns with the instruction in every turn",
        job.options.dialogues, job.options.turns
    ));
    let dialogues = sample_gatt_dialogues(&infer, &tok, &bank, &job.options)?;
    let (mut examples, dropped) = gatt_examples(&dialogues, &tok, job.config.seq_len.min(context) + 1)?;
    std::fs::create_dir_all(&job.config.out).map_err(|e| format!("{}: {e}", job.config.out.display()))?;
    let jsonl: String =
        dialogues.iter().map(|d| dialogue_line(&training_messages(d, d.answers.len()), None) + "\n").collect();
    crate::data::write_atomic(&job.config.out.join("gatt_train.jsonl"), jsonl.as_bytes()).map_err(|e| e.to_string())?;
    // the figure's dialogue: held-out user turns with corpus answers made to adhere, the
    // same tokens for the model before and after
    let mut rng = StdRng::seed_from_u64(job.options.seed);
    let plan = &eval[0];
    let answers: Vec<String> = plan
        .users
        .iter()
        .map(|u| plan.instruction.apply(&bank.answer(u, &mut rng).unwrap_or_else(|| "That is a good question.".into())))
        .collect();
    let figure = figure_dialogue(&tok, plan, &answers)?;
    let (system_span, turn_starts) = (figure.system_span, figure.turn_starts);
    let figure_ids: Vec<u32> = figure.ids.into_iter().take(context).collect();
    let map_before = base.attention_to_span(&figure_ids, system_span.clone());
    let later = turn_starts.get(1).copied().unwrap_or(0);
    let mean_after_turn_1 = |map: &[Vec<f32>]| -> Vec<f32> {
        map.iter().map(|row| row[later..].iter().sum::<f32>() / row.len().saturating_sub(later).max(1) as f32).collect()
    };
    let system_attention_before = mean_after_turn_1(&map_before);
    let mut system_attention_after = Vec::new();

    let val = examples.split_off(examples.len() - examples.len() / 20);
    log(&format!(
        "gatt: {} training examples ({} held out for validation, {dropped} too long)",
        examples.len(),
        val.len()
    ));
    let outcome = finetune("gatt", &job.config, || Ok(base), &tokenizer_bin, &examples, &val, run_options, log)?;
    let after = match outcome.summary.stopped_early {
        Some(_) => None,
        None => {
            let after = adherence_by_turn(&inference_of(&outcome.model)?, &tok, &eval, job.options.answer_tokens)?;
            log(&format!("gatt: adherence by turn after:  {}", fmt_turns(&after.by_turn)));
            let per: Vec<String> = after.by_instruction.iter().map(|(n, a)| format!("{n} {a:.2}")).collect();
            log(&format!("gatt: adherence by instruction after: {}", per.join(", ")));
            let map_after = outcome.model.attention_to_span(&figure_ids, system_span);
            system_attention_after = mean_after_turn_1(&map_after);
            let fmt = |v: &[f32]| v.iter().map(|m| format!("{m:.3}")).collect::<Vec<_>>().join(" ");
            log(&format!(
                "gatt: mean attention on the system message from turns 2–8, per layer: before {}, after {}",
                fmt(&system_attention_before),
                fmt(&system_attention_after)
            ));
            let svg = attention_heatmap_svg(
                &format!("Attention to the system message \"{}\" across an 8-turn dialogue", plan.instruction.short),
                &[("before GAtt", &map_before), ("after GAtt", &map_after)],
                &turn_starts,
                turn_starts.get(1).copied().unwrap_or(0),
            );
            let path = job.config.out.join("attention_system.svg");
            crate::data::write_atomic(&path, svg.as_bytes()).map_err(|e| e.to_string())?;
            log(&format!("gatt: attention figure → {}", path.display()));
            Some(after)
        }
    };
    let summary = outcome.summary;
    let report = GattReport {
        dialogues: dialogues.len(),
        examples: examples.len(),
        dropped,
        before,
        after,
        system_attention_before,
        system_attention_after,
        steps: summary.steps_done,
        final_loss: summary.last_loss,
        tokens_per_s: summary.tokens_per_s,
        summary,
    };
    let json = serde_json::to_string_pretty(&report).expect("serializable");
    crate::data::write_atomic(&job.config.out.join("gatt_eval.json"), json.as_bytes()).map_err(|e| e.to_string())?;
    Ok(report)
}

/// `0.12 0.08 …` for logs.
pub fn fmt_turns(by_turn: &[f64]) -> String {
    by_turn.iter().map(|a| format!("{a:.2}")).collect::<Vec<_>>().join(" ")
}
