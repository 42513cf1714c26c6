//! The pretraining loop: data → tokenizer → model → AdamW with warmup + cosine, gradient
//! accumulation and clipping → metrics, validation, checkpoints, resume, sample.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use llamaforge_autograd::no_grad;
use llamaforge_engine::{select_device, DeviceSpec, Tensor};
use llamaforge_model::generate::{generate, GenerateOptions, InferenceModel, Sampling};
use llamaforge_model::loss::{lm_head_chunk_for, lm_head_loss};
use llamaforge_model::tokenizer::{Tokenizer, TrainOptions};
use llamaforge_model::{preset, Llama};

use super::checkpoint::{load_checkpoint, save_checkpoint, TrainerState};
use super::metrics::{MetricsLog, MetricsRecord};
use super::PretrainConfig;
use crate::data::{
    load_documents, random_windows, split_documents, tokenize_documents, validation_windows, TokenCache, Windows,
};
use crate::optim::{clip_scale, global_grad_norm, AdamW, CosineSchedule};

/// What a finished (or stopped) run reports.
#[derive(Clone, Debug)]
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

/// Options of one invocation that are not part of the run's config.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Continue `config.out` from its checkpoint.
    pub resume: bool,
    /// Stop after this many steps of this invocation (tests interrupt runs with it).
    pub max_steps_this_run: Option<u64>,
    /// Draw a progress bar (off in tests).
    pub progress: bool,
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
    let train = tokenize_cached(run, "train", train_docs, &tok)?;
    let val = if val_docs.is_empty() { Vec::new() } else { tokenize_cached(run, "val", val_docs, &tok)? };
    log(&format!(
        "data: {} train documents ({} tokens), {} validation documents ({} tokens)",
        train_docs.len(),
        train.len(),
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
    let device = selected.device;
    let (model, mut optimizer, start_step) = if options.resume {
        let r = load_checkpoint(run)?;
        r.model.to_device(device).map_err(|e| e.to_string())?;
        let mut opt = AdamW::new(r.model.parameters(), config.adamw);
        opt.set_state(r.optimizer_state)?;
        log(&format!("resumed {} at step {}", run.display(), r.state.step));
        (r.model, opt, r.state.step)
    } else {
        let mut model_config = preset(&config.preset).map_err(|e| e.to_string())?;
        model_config.vocab_size = tok.vocab_size();
        model_config.max_seq_len = model_config.max_seq_len.max(config.seq_len);
        let model = Llama::new_random(&model_config, config.seed).map_err(|e| e.to_string())?;
        model.to_device(device).map_err(|e| e.to_string())?;
        let opt = AdamW::new(model.parameters(), config.adamw);
        (model, opt, 0)
    };
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
    let schedule = CosineSchedule {
        peak_lr: config.peak_lr,
        warmup_steps: config.warmup_steps,
        total_steps: config.steps,
        final_fraction: config.final_lr_fraction,
    };
    let mut metrics =
        MetricsLog::open(run, options.resume.then_some(start_step)).map_err(|e| format!("{}: {e}", run.display()))?;

    // Ctrl-C: finish the current step, save, exit
    let interrupted = Arc::new(AtomicBool::new(false));
    {
        let flag = interrupted.clone();
        // only the first handler of a process can be installed; later runs (tests) reuse it
        let _ = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst));
    }

    let end = match options.max_steps_this_run {
        Some(n) => (start_step + n).min(config.steps),
        None => config.steps,
    };
    let bar = if options.progress { ProgressBar::new(config.steps) } else { ProgressBar::hidden() };
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} [{elapsed_precise}<{eta_precise}] {msg}")
            .expect("valid template"),
    );
    bar.set_position(start_step);
    let tokens_per_step = (config.batch_size * config.seq_len * config.grad_accum) as f64;
    let started = Instant::now();
    let mut summary = PretrainSummary {
        steps_done: start_step,
        last_loss: f64::NAN,
        val_loss: None,
        tokens_per_s: 0.0,
        losses: Vec::new(),
        stopped_early: None,
        sample: None,
    };
    for step in start_step..end {
        let t0 = Instant::now();
        let mut loss_sum = 0.0;
        for micro in 0..config.grad_accum as u64 {
            let w = random_windows(
                &train,
                config.batch_size,
                config.seq_len,
                config.seed,
                step * config.grad_accum as u64 + micro,
            )
            .map_err(|e| e.to_string())?;
            let loss = batch_loss(&model, &w);
            loss_sum += loss.value().to_scalar();
            loss.scale(1.0 / config.grad_accum as f64).backward();
        }
        let loss = loss_sum / config.grad_accum as f64;
        if !loss.is_finite() {
            optimizer.zero_grad();
            let msg = format!(
                "loss became {loss} at step {}; stopped. The last good checkpoint is {} (try a lower --lr)",
                step + 1,
                super::checkpoint::checkpoint_dir(run).display()
            );
            bar.abandon_with_message(msg.clone());
            summary.stopped_early = Some(msg);
            return Ok(summary);
        }
        let grad_norm = global_grad_norm(optimizer.params());
        let scale = if config.grad_clip > 0.0 { clip_scale(grad_norm, config.grad_clip) } else { 1.0 };
        let lr = schedule.lr(step);
        optimizer.step(lr, scale);
        let done = step + 1;
        let dt = t0.elapsed().as_secs_f64();
        let tok_s = tokens_per_step / dt;
        let state = TrainerState { step: done, last_loss: loss };
        summary.losses.push(loss);
        summary.last_loss = loss;
        summary.steps_done = done;
        metrics
            .write(&MetricsRecord {
                step: done,
                loss: Some(loss),
                lr: Some(lr),
                grad_norm: Some(grad_norm),
                tokens_per_s: Some(tok_s),
                elapsed_s: Some(started.elapsed().as_secs_f64()),
                ..Default::default()
            })
            .map_err(|e| format!("{}: {e}", metrics.path().display()))?;
        bar.set_position(done);
        bar.set_message(format!("loss {loss:.4} lr {lr:.2e} |g| {grad_norm:.3} {tok_s:.0} tok/s"));
        if let Some(val) = &val_windows {
            if done % config.val_every == 0 || done == config.steps {
                let vl = validate(&model, val, config.batch_size);
                summary.val_loss = Some(vl);
                metrics
                    .write(&MetricsRecord { step: done, val_loss: Some(vl), ..Default::default() })
                    .map_err(|e| e.to_string())?;
                bar.println(format!("step {done}: val loss {vl:.4}"));
            }
        }
        let stop = interrupted.load(Ordering::SeqCst);
        summary.tokens_per_s =
            summary.losses.len() as f64 * tokens_per_step / started.elapsed().as_secs_f64().max(1e-9);
        if done % config.checkpoint_every == 0 || done == end || stop {
            save_checkpoint(run, &model, &optimizer, &state, &tokenizer_bin, bos_eos)?;
        }
        if stop {
            let msg = format!("interrupted at step {done}; checkpoint saved — continue with --resume");
            bar.abandon_with_message(msg.clone());
            summary.stopped_early = Some(msg);
            return Ok(summary);
        }
    }
    bar.finish();
    if summary.steps_done == config.steps && config.sample_tokens > 0 {
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
