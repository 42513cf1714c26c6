//! `llamaforge sft` end to end: the base model and its tokenizer, the dialogues (a file,
//! or the built-in instruction task), gold evaluation of greedy answers on the held-out
//! prompts before and after, and the fine-tuning run between them. The report is saved as
//! `RUN/eval.json`.

use std::path::{Path, PathBuf};

use llamaforge_model::chat::{Message, Role};
use llamaforge_model::checkpoint::{load_model, TOKENIZER_FILE};
use llamaforge_model::generate::InferenceModel;
use llamaforge_model::tokenizer::Tokenizer;
use llamaforge_model::Llama;
use serde::Serialize;

use super::finetune::{finetune, FinetuneConfig};
use super::sft::encode_dialogues;
use crate::eval::{gold_eval, EvalPrompt, GoldReport};
use crate::task::{build_instruct_task, load_dialogues, Dialogue, TaskOptions};
use crate::trainer::{RunOptions, TrainSummary};

/// The bundled corpus the built-in task is generated from.
pub const DEFAULT_STORIES: &str = "data/tinystories_sample.txt";

/// Most tokens of a greedy answer in the gold evaluation (a gold story is ≤ 90 words).
pub const EVAL_MAX_TOKENS: usize = 200;

/// What `llamaforge sft` runs.
#[derive(Clone, Debug)]
pub struct SftJob {
    /// The model to fine-tune: native/HF directory or llama2.c `.bin`.
    pub model: PathBuf,
    /// Its tokenizer (default: `tokenizer.bin` in the model directory or beside the file).
    pub tokenizer: Option<PathBuf>,
    /// Training dialogues (JSONL); the built-in task when absent.
    pub data: Option<PathBuf>,
    /// Held-out dialogues (JSONL) for validation loss and gold evaluation; with `data` but
    /// without this, the last 5% of `data` is held out.
    pub heldout: Option<PathBuf>,
    pub config: FinetuneConfig,
    /// Seed of the built-in task.
    pub task_seed: u64,
    /// Skip the gold evaluations (tests of the loop alone).
    pub skip_eval: bool,
}

/// What the run did, as saved in `RUN/eval.json`.
#[derive(Clone, Debug, Serialize)]
pub struct SftReport {
    pub train_examples: usize,
    pub heldout_examples: usize,
    pub before: Option<GoldReport>,
    pub after: Option<GoldReport>,
    pub steps: u64,
    pub final_loss: f64,
    pub val_loss: Option<f64>,
    pub tokens_per_s: f64,
    #[serde(skip)]
    pub summary: TrainSummary,
}

/// The tokenizer of `model`: `explicit`, else `tokenizer.bin` in the directory or beside
/// the file.
pub fn load_tokenizer_of(model: &Path, explicit: Option<&Path>) -> Result<(Tokenizer, Vec<u8>), String> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None if model.is_dir() => model.join(TOKENIZER_FILE),
        None => model.with_file_name(TOKENIZER_FILE),
    };
    if !path.exists() {
        return Err(format!(
            "no tokenizer for {}: {} does not exist; pass --tokenizer PATH",
            model.display(),
            path.display()
        ));
    }
    let tok = Tokenizer::load_llama2c(&path, None).map_err(|e| format!("{}: {e}", path.display()))?;
    let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok((tok, bytes))
}

/// Loads a trainable model from any checkpoint format.
pub fn load_llama(path: &Path) -> Result<Llama, String> {
    let (checkpoint, _) = load_model(path).map_err(|e| format!("loading {}: {e}", path.display()))?;
    checkpoint.into_model().map_err(|e| format!("{}: {e}", path.display()))
}

/// The CPU inference model of `model`'s current weights.
pub fn inference_of(model: &Llama) -> Result<InferenceModel, String> {
    let weights = model.weights_on_cpu().map_err(|e| e.to_string())?;
    InferenceModel::from_weights(&model.config, &weights).map_err(|e| e.to_string())
}

/// The held-out prompts the judges can score: dialogues with a spec, cut before their last
/// assistant answer.
pub fn eval_prompts(dialogues: &[Dialogue]) -> Vec<EvalPrompt> {
    dialogues
        .iter()
        .filter_map(|d| {
            let spec = d.spec.clone()?;
            let last_answer = d.messages.iter().rposition(|m| m.role == Role::Assistant);
            let messages: Vec<Message> = match last_answer {
                Some(i) => d.messages[..i].to_vec(),
                None => d.messages.clone(),
            };
            Some(EvalPrompt { messages, spec })
        })
        .collect()
}

/// The training and held-out dialogues of a job.
pub fn job_dialogues(
    data: Option<&Path>,
    heldout: Option<&Path>,
    task_seed: u64,
) -> Result<(Vec<Dialogue>, Vec<Dialogue>), String> {
    let load = |p: &Path| load_dialogues(p).map_err(|e| e.to_string());
    match (data, heldout) {
        (Some(d), Some(h)) => Ok((load(d)?, load(h)?)),
        (Some(d), None) => {
            let mut all = load(d)?;
            let keep = all.len() - all.len() / 20;
            let held = all.split_off(keep);
            Ok((all, held))
        }
        (None, held) => {
            let stories = crate::data::load_documents(Path::new(DEFAULT_STORIES), "text").map_err(|e| e.to_string())?;
            let task = build_instruct_task(&stories, &TaskOptions { seed: task_seed, ..TaskOptions::default() });
            let to_dialogue =
                |e: &crate::task::Example| Dialogue { messages: e.messages.clone(), spec: Some(e.spec.clone()) };
            let held = match held {
                Some(h) => load(h)?,
                None => task.heldout.iter().map(to_dialogue).collect(),
            };
            Ok((task.train.iter().map(to_dialogue).collect(), held))
        }
    }
}

/// Runs the job: evaluate, fine-tune, evaluate, save `RUN/eval.json`.
pub fn run_sft(job: &SftJob, options: &RunOptions, log: &dyn Fn(&str)) -> Result<SftReport, String> {
    let (tok, tokenizer_bin) = load_tokenizer_of(&job.model, job.tokenizer.as_deref())?;
    let (train, heldout) = job_dialogues(job.data.as_deref(), job.heldout.as_deref(), job.task_seed)?;
    let messages = |d: &[Dialogue]| d.iter().map(|x| x.messages.clone()).collect::<Vec<_>>();
    let train_examples = encode_dialogues(&messages(&train), &tok)?;
    let val_examples = encode_dialogues(&messages(&heldout), &tok)?;
    let prompts = eval_prompts(&heldout);
    log(&format!(
        "sft: {} training dialogues, {} held out ({} with a gold judge)",
        train.len(),
        heldout.len(),
        prompts.len()
    ));
    let base = load_llama(&job.model)?;
    if base.config.vocab_size != tok.vocab_size() {
        return Err(format!(
            "model vocab {} does not match tokenizer vocab {}",
            base.config.vocab_size,
            tok.vocab_size()
        ));
    }
    let evaluate = |model: &Llama, when: &str| -> Result<Option<GoldReport>, String> {
        if job.skip_eval || prompts.is_empty() || options.resume && when == "before" {
            return Ok(None);
        }
        let report = gold_eval(&inference_of(model)?, &tok, &prompts, EVAL_MAX_TOKENS)?;
        log(&format!("gold {when}: {}", report.line()));
        Ok(Some(report))
    };
    let before = evaluate(&base, "before")?;
    let outcome =
        finetune("sft", &job.config, || Ok(base), &tokenizer_bin, &train_examples, &val_examples, options, log)?;
    let after = match outcome.summary.stopped_early {
        None => evaluate(&outcome.model, "after")?,
        Some(_) => None,
    };
    let summary = outcome.summary;
    let report = SftReport {
        train_examples: train_examples.len(),
        heldout_examples: val_examples.len(),
        before,
        after,
        steps: summary.steps_done,
        final_loss: summary.last_loss,
        val_loss: summary.val_loss,
        tokens_per_s: summary.tokens_per_s,
        summary,
    };
    let json = serde_json::to_string_pretty(&report).expect("serializable");
    crate::data::write_atomic(&job.config.out.join("eval.json"), json.as_bytes()).map_err(|e| e.to_string())?;
    Ok(report)
}
