//! The one training loop every stage runs on: AdamW, warmup + cosine to a floor,
//! global-norm clipping, gradient accumulation, validation, metrics.jsonl, atomic
//! checkpoints with bit-exact resume, Ctrl-C and the NaN guard. A [`Stage`] supplies the
//! micro-batch losses.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use llamaforge_autograd::no_grad;
use llamaforge_engine::Device;
use llamaforge_model::Llama;
use serde::{Deserialize, Serialize};

use super::checkpoint::{checkpoint_dir, load_checkpoint, save_checkpoint, TrainerState};
use super::interrupt;
use super::metrics::{MetricsLog, MetricsRecord};
use super::stage::Stage;
use crate::optim::{clip_scale, global_grad_norm, AdamW, AdamWConfig, CosineSchedule};

/// The loop's knobs (each stage fills them from its own config and documents its defaults).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainerConfig {
    /// Optimizer steps.
    pub steps: u64,
    pub peak_lr: f64,
    pub warmup_steps: u64,
    /// Final learning rate as a fraction of the peak (the paper: 0.1).
    pub final_lr_fraction: f64,
    pub adamw: AdamWConfig,
    /// Global gradient-norm clip (the paper: 1.0); 0 disables.
    pub grad_clip: f64,
    /// Micro-batches per optimizer step.
    pub grad_accum: usize,
    /// Validate every this many steps (and at the end).
    pub val_every: u64,
    /// Checkpoint every this many steps (and at the end).
    pub checkpoint_every: u64,
}

/// Options of one invocation that are not part of the run's config.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Continue `config.out` from its checkpoint.
    pub resume: bool,
    /// Stop after this many steps of this invocation (tests interrupt runs with it).
    pub max_steps_this_run: Option<u64>,
    /// Draw a progress bar (off in tests and with `--quiet`).
    pub progress: bool,
}

/// What a finished (or stopped) run reports.
#[derive(Clone, Debug, Default)]
pub struct TrainSummary {
    pub steps_done: u64,
    pub last_loss: f64,
    pub val_loss: Option<f64>,
    /// The last validation's stage metrics.
    pub val_metrics: Vec<(String, f64)>,
    pub tokens_per_s: f64,
    /// Per-step training losses of this invocation, in order (resume tests compare them).
    pub losses: Vec<f64>,
    pub stopped_early: Option<String>,
}

/// A model and its optimizer, fresh or restored from `RUN/checkpoint`.
pub struct Session {
    pub model: Llama,
    pub optimizer: AdamW,
    /// Optimizer steps already done (0 for a fresh run).
    pub start_step: u64,
}

/// Builds the session of a run. Fresh: `fresh()` gives the model; resumed: the model and
/// moments come from `RUN/checkpoint`. Either way `prepare` runs before the optimizer is
/// built (it freezes parameters or adds heads, the same way both times), and the model
/// moves to `device`.
pub fn open_session(
    run: &Path,
    resume: bool,
    device: Device,
    adamw: AdamWConfig,
    fresh: impl FnOnce() -> Result<Llama, String>,
    prepare: impl Fn(&mut Llama) -> Result<(), String>,
    log: &dyn Fn(&str),
) -> Result<Session, String> {
    if resume {
        let r = load_checkpoint(run)?;
        let mut model = r.model;
        prepare(&mut model)?;
        model.to_device(device).map_err(|e| e.to_string())?;
        let trainable: Vec<String> =
            model.trainable_parameters().iter().map(|p| p.name().expect("named").to_string()).collect();
        if trainable != r.trained {
            return Err(format!(
                "{}: the checkpoint trained {} parameters but this run trains {} (a different stage or freezing?)",
                checkpoint_dir(run).display(),
                r.trained.len(),
                trainable.len()
            ));
        }
        let mut optimizer = AdamW::new(model.trainable_parameters(), adamw);
        optimizer.set_state(r.optimizer_state)?;
        log(&format!("resumed {} at step {}", run.display(), r.state.step));
        Ok(Session { model, optimizer, start_step: r.state.step })
    } else {
        let mut model = fresh()?;
        prepare(&mut model)?;
        model.to_device(device).map_err(|e| e.to_string())?;
        let optimizer = AdamW::new(model.trainable_parameters(), adamw);
        Ok(Session { model, optimizer, start_step: 0 })
    }
}

/// Where checkpoints go and what they carry besides the model.
pub struct CheckpointSpec<'a> {
    pub run: PathBuf,
    /// llama2.c `tokenizer.bin` bytes, saved in every checkpoint.
    pub tokenizer_bin: &'a [u8],
    pub bos_eos: (u32, u32),
}

/// Runs steps `session.start_step..config.steps` of `stage`.
pub fn train(
    session: &mut Session,
    stage: &mut dyn Stage,
    config: &TrainerConfig,
    checkpoints: &CheckpointSpec,
    options: &RunOptions,
    log: &dyn Fn(&str),
) -> Result<TrainSummary, String> {
    let run = checkpoints.run.as_path();
    let (model, optimizer, start_step) = (&session.model, &mut session.optimizer, session.start_step);
    let schedule = CosineSchedule {
        peak_lr: config.peak_lr,
        warmup_steps: config.warmup_steps,
        total_steps: config.steps,
        final_fraction: config.final_lr_fraction,
    };
    let mut metrics =
        MetricsLog::open(run, options.resume.then_some(start_step)).map_err(|e| format!("{}: {e}", run.display()))?;
    interrupt::arm();
    let end = match options.max_steps_this_run {
        Some(n) => (start_step + n).min(config.steps),
        None => config.steps,
    };
    let bar = if options.progress { ProgressBar::new(config.steps) } else { ProgressBar::hidden() };
    bar.set_style(
        ProgressStyle::with_template("{prefix} {bar:30} {pos}/{len} [{elapsed_precise}<{eta_precise}] {msg}")
            .expect("valid template"),
    );
    bar.set_prefix(stage.name().to_string());
    bar.set_position(start_step);
    let started = Instant::now();
    let mut tokens_total = 0usize;
    let mut summary = TrainSummary { steps_done: start_step, last_loss: f64::NAN, ..Default::default() };
    for step in start_step..end {
        let t0 = Instant::now();
        let mut loss_sum = 0.0;
        let mut tokens = 0;
        let mut stage_sums: BTreeMap<String, f64> = BTreeMap::new();
        for micro in 0..config.grad_accum {
            let part = stage.micro_batch_loss(model, step, micro)?;
            loss_sum += part.loss.value().to_scalar();
            tokens += part.tokens;
            for (k, v) in part.metrics {
                *stage_sums.entry(k).or_default() += v / config.grad_accum as f64;
            }
            part.loss.scale(1.0 / config.grad_accum as f64).backward();
        }
        let loss = loss_sum / config.grad_accum as f64;
        if !loss.is_finite() {
            optimizer.zero_grad();
            let msg = format!(
                "{}: loss became {loss} at step {}; stopped. The last good checkpoint is {} (try a lower --lr)",
                stage.name(),
                step + 1,
                checkpoint_dir(run).display()
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
        let tok_s = tokens as f64 / t0.elapsed().as_secs_f64();
        tokens_total += tokens;
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
                extra: stage_sums.clone(),
                ..Default::default()
            })
            .map_err(|e| format!("{}: {e}", metrics.path().display()))?;
        bar.set_position(done);
        let shown: String = stage_sums.iter().map(|(k, v)| format!(" {k} {v:.3}")).collect();
        bar.set_message(format!("loss {loss:.4} lr {lr:.2e} |g| {grad_norm:.3} {tok_s:.0} tok/s{shown}"));
        if done % config.val_every == 0 || done == config.steps {
            if let Some(val) = no_grad(|| stage.validate(model))? {
                summary.val_loss = Some(val.loss);
                summary.val_metrics = val.metrics.clone();
                metrics
                    .write(&MetricsRecord {
                        step: done,
                        val_loss: Some(val.loss),
                        extra: val.metrics.iter().map(|(k, v)| (format!("val_{k}"), *v)).collect(),
                        ..Default::default()
                    })
                    .map_err(|e| e.to_string())?;
                let shown: String = val.metrics.iter().map(|(k, v)| format!(", {k} {v:.3}")).collect();
                bar.println(format!("step {done}: val loss {:.4}{shown}", val.loss));
            }
        }
        let stop = interrupt::interrupted();
        summary.tokens_per_s = tokens_total as f64 / started.elapsed().as_secs_f64().max(1e-9);
        if done % config.checkpoint_every == 0 || done == end || stop {
            let state = TrainerState { step: done, last_loss: loss };
            save_checkpoint(run, model, optimizer, &state, checkpoints.tokenizer_bin, checkpoints.bos_eos)?;
        }
        if stop {
            let msg = format!("interrupted at step {done}; checkpoint saved — continue with --resume");
            bar.abandon_with_message(msg.clone());
            summary.stopped_early = Some(msg);
            return Ok(summary);
        }
    }
    bar.finish();
    if summary.steps_done == start_step {
        log(&format!("{}: nothing to do (already at step {} of {})", stage.name(), start_step, config.steps));
    }
    Ok(summary)
}
