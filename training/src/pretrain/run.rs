//! Pretraining as a stage of the shared trainer: data → tokenizer → model, then random
//! windows of the corpus with the next-token loss; the trainer does the rest. At the end,
//! a sample story.

use std::path::Path;
use std::time::Instant;

use llamaforge_autograd::no_grad;
use llamaforge_engine::{select_device, DeviceSpec, Tensor};
use llamaforge_model::generate::{generate, GenerateOptions, InferenceModel, Sampling};
use llamaforge_model::loss::{lm_head_chunk_for, lm_head_loss};
use llamaforge_model::tokenizer::{Tokenizer, TrainOptions};
use llamaforge_model::{preset, Llama};

use super::PretrainConfig;
use crate::data::{
    load_documents, random_windows, split_documents, tokenize_documents, validation_windows, TokenCache, Windows,
};
use crate::trainer::{open_session, train, CheckpointSpec, MicroLoss, RunOptions, Stage, TrainerConfig, Validation};

/// What a finished (or stopped) run reports.
#[derive(Clone, Debug, Default)]
pub struct PretrainSummary {
    pub steps_done: u64,
    pub last_loss: f64,
    pub val_loss: Option<f64>,
    pub tokens_per_s: f64,
    /// Per-step training losses of this invocation, in order (resume tests compare them).
    pub losses: Vec<f64>,
    pub stopped_early: Option<String>,
    pub sample: Option<String>,
}

/// Input ids `[B, T]` and next-token targets `[B·T]` of a batch of windows.
fn split_window_batch(w: &Windows) -> (Tensor, Tensor) {
    let (b, t) = (w.batch, w.seq);
    let mut inputs = Vec::with_capacity(b * t);
    let mut targets = Vec::with_capacity(b * t);
    for row in w.ids.chunks(t + 1) {
        inputs.extend_from_slice(&row[..t]);
        targets.extend_from_slice(&row[1..]);
    }
    (Tensor::from_vec(inputs, &[b, t]), Tensor::from_vec(targets, &[b * t]))
}

/// Mean next-token loss of `model` on `w` (a Var, so it can be backpropagated). The ids
/// stay on the host even when the model is on a GPU: the GPU's index and cross-entropy
/// kernels take host ids (range-checked there) and upload them with their launch, so ids
/// already on the device would only be read back.
fn batch_loss(model: &Llama, w: &Windows) -> llamaforge_autograd::Var {
    let (inputs, targets) = split_window_batch(w);
    let hidden = model.hidden_states(&inputs).reshape(&[w.batch * w.seq, model.config.dim]); // [B·T, C]
    lm_head_loss(&hidden, model.output_weight(), &targets, lm_head_chunk_for(model.device()))
}

/// Validation loss over fixed windows, in chunks of `chunk` windows, without gradients.
fn validate(model: &Llama, val: &Windows, chunk: usize) -> f64 {
    no_grad(|| {
        let mut total = 0.0;
        for start in (0..val.batch).step_by(chunk) {
            let n = chunk.min(val.batch - start);
            let part = Windows {
                batch: n,
                seq: val.seq,
                ids: val.ids[start * (val.seq + 1)..(start + n) * (val.seq + 1)].to_vec(),
            };
            total += batch_loss(model, &part).value().to_scalar() * n as f64;
        }
        total / val.batch as f64
    })
}

/// Loads or trains the tokenizer; returns it with its llama2.c bytes (stored in
/// checkpoints).
fn prepare_tokenizer(config: &PretrainConfig, train_docs: &[String], log: &dyn Fn(&str)) -> Result<Tokenizer, String> {
    if let Some(path) = &config.tokenizer {
        let is_json = path.extension().is_some_and(|e| e == "json");
        let tok = if is_json { Tokenizer::load_json(path) } else { Tokenizer::load_llama2c(path, None) };
        return tok.map_err(|e| e.to_string());
    }
    let saved = config.out.join("tokenizer.json");
    if saved.exists() {
        return Tokenizer::load_json(&saved).map_err(|e| e.to_string());
    }
    let t0 = Instant::now();
    let tok = Tokenizer::train(train_docs, config.vocab_size, &TrainOptions::default()).map_err(|e| e.to_string())?;
    tok.save_json(&saved).map_err(|e| e.to_string())?;
    log(&format!(
        "trained a {}-token BPE tokenizer on {} documents in {:.1}s → {}",
        tok.vocab_size(),
        train_docs.len(),
        t0.elapsed().as_secs_f64(),
        saved.display()
    ));
    Ok(tok)
}

/// Tokenizes `docs` with BOS at every document start, through a cache file in the run.
fn tokenize_cached(run: &Path, name: &str, docs: &[String], tok: &Tokenizer) -> Result<Vec<u32>, String> {
    let source: Vec<u8> = docs.iter().flat_map(|d| d.bytes().chain([0u8])).collect();
    let cache = TokenCache::new(run.join(format!("{name}.tokens")), &source, &tok.to_llama2c_bytes());
    if let Some(ids) = cache.load().map_err(|e| e.to_string())? {
        return Ok(ids);
    }
    let ids = tokenize_documents(docs, &|d| tok.encode(d, true, false));
    cache.store(&ids).map_err(|e| e.to_string())?;
    Ok(ids)
}

/// Random windows of the training tokens, the next-token loss, and fixed validation
/// windows.
struct PretrainStage<'a> {
    train: &'a [u32],
    val: Option<Windows>,
    config: &'a PretrainConfig,
}

impl Stage for PretrainStage<'_> {
    fn name(&self) -> &str {
        "pretrain"
    }

    fn micro_batch_loss(&mut self, model: &Llama, step: u64, micro: usize) -> Result<MicroLoss, String> {
        let c = self.config;
        let index = step * c.grad_accum as u64 + micro as u64;
        let w = random_windows(self.train, c.batch_size, c.seq_len, c.seed, index).map_err(|e| e.to_string())?;
        Ok(MicroLoss { loss: batch_loss(model, &w), tokens: c.batch_size * c.seq_len, metrics: Vec::new() })
    }

    fn validate(&mut self, model: &Llama) -> Result<Option<Validation>, String> {
        Ok(self
            .val
            .as_ref()
            .map(|val| Validation { loss: validate(model, val, self.config.batch_size), metrics: Vec::new() }))
    }
}

/// Runs (or resumes) pretraining as configured. `log` receives human-readable lines.
pub fn pretrain(config: &PretrainConfig, options: &RunOptions, log: &dyn Fn(&str)) -> Result<PretrainSummary, String> {
    config.validate()?;
    let run = config.out.as_path();
    std::fs::create_dir_all(run).map_err(|e| format!("{}: {e}", run.display()))?;
    let resolved = serde_json::to_string_pretty(config).expect("serializable");
    crate::data::write_atomic(&run.join("run_config.json"), resolved.as_bytes()).map_err(|e| e.to_string())?;

    // data and tokenizer
    let docs = load_documents(&config.data, &config.text_field).map_err(|e| e.to_string())?;
    let (train_docs, val_docs) = split_documents(&docs, config.val_fraction);
    let tok = prepare_tokenizer(config, train_docs, log)?;
    let train_ids = tokenize_cached(run, "train", train_docs, &tok)?;
    let val = if val_docs.is_empty() { Vec::new() } else { tokenize_cached(run, "val", val_docs, &tok)? };
    log(&format!(
        "data: {} train documents ({} tokens), {} validation documents ({} tokens)",
        train_docs.len(),
        train_ids.len(),
        val_docs.len(),
        val.len()
    ));
    let val_windows = if val.is_empty() {
        None
    } else {
        Some(validation_windows(&val, config.seq_len, config.val_windows).map_err(|e| e.to_string())?)
    };

    // model and optimizer (fresh or resumed), on the configured device
    let spec: DeviceSpec = config.device.parse()?;
    let selected = select_device(spec).map_err(|e| format!("--device {}: {e}", config.device))?;
    log(&selected.description);
    let fresh = || {
        let mut model_config = preset(&config.preset).map_err(|e| e.to_string())?;
        model_config.vocab_size = tok.vocab_size();
        model_config.max_seq_len = model_config.max_seq_len.max(config.seq_len);
        Llama::new_random(&model_config, config.seed).map_err(|e| e.to_string())
    };
    let mut session = open_session(run, options.resume, selected.device, config.adamw, fresh, |_| Ok(()), log)?;
    let model = &session.model;
    if model.config.vocab_size != tok.vocab_size() {
        return Err(format!(
            "model vocab {} does not match tokenizer vocab {}",
            model.config.vocab_size,
            tok.vocab_size()
        ));
    }
    log(&format!(
        "model: preset {} ({} parameters), context {}, batch {}×{}×{} accum",
        config.preset,
        model.config.num_parameters(),
        config.seq_len,
        config.batch_size,
        config.seq_len,
        config.grad_accum
    ));
    let tokenizer_bin = tok.to_llama2c_bytes();
    let bos_eos = (1, 2);
    let trainer = TrainerConfig {
        steps: config.steps,
        peak_lr: config.peak_lr,
        warmup_steps: config.warmup_steps,
        final_lr_fraction: config.final_lr_fraction,
        adamw: config.adamw,
        grad_clip: config.grad_clip,
        grad_accum: config.grad_accum,
        val_every: config.val_every,
        checkpoint_every: config.checkpoint_every,
    };
    let checkpoints = CheckpointSpec { run: run.to_path_buf(), tokenizer_bin: &tokenizer_bin, bos_eos };
    let mut stage = PretrainStage { train: &train_ids, val: val_windows, config };
    let t = train(&mut session, &mut stage, &trainer, &checkpoints, options, log)?;
    let mut summary = PretrainSummary {
        steps_done: t.steps_done,
        last_loss: t.last_loss,
        val_loss: t.val_loss,
        tokens_per_s: t.tokens_per_s,
        losses: t.losses,
        stopped_early: t.stopped_early,
        sample: None,
    };
    let model = &session.model;
    if summary.stopped_early.is_none() && summary.steps_done == config.steps && config.sample_tokens > 0 {
        // the sample uses the CPU inference path (weights read back once if on a GPU)
        let weights = model.weights_on_cpu().map_err(|e| e.to_string())?;
        let infer = InferenceModel::from_weights(&model.config, &weights).map_err(|e| e.to_string())?;
        let options = GenerateOptions {
            max_new_tokens: config.sample_tokens.min(model.config.max_seq_len - 1),
            sampling: Sampling::from_temperature(0.8, 0.9),
            seed: config.seed,
            stop_tokens: vec![bos_eos.0, bos_eos.1],
        };
        let out = generate(&infer, &[vec![bos_eos.0]], &options).map_err(|e| e.to_string())?;
        summary.sample = Some(tok.decode(&out[0].tokens));
    }
    Ok(summary)
}
