//! Training checkpoints: a native model directory (config.json, model.safetensors,
//! tokenizer.bin — loadable by `generate`), plus `optimizer.safetensors` (AdamW moments by
//! parameter name) and `trainer_state.json` (the step). The directory is written beside
//! the old one and swapped in by renames, so a crash mid-write keeps the last good one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use llamaforge_model::checkpoint::{load_hf_dir, safetensors_io, save_native, Checkpoint};
use llamaforge_model::Llama;
use serde::{Deserialize, Serialize};

use crate::optim::{AdamW, AdamWState};

/// The loop's position, saved beside the weights.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TrainerState {
    /// Optimizer steps completed.
    pub step: u64,
    /// Training loss of the last completed step.
    pub last_loss: f64,
}

const OPTIMIZER_FILE: &str = "optimizer.safetensors";
const STATE_FILE: &str = "trainer_state.json";

/// `RUN/checkpoint`: where the latest checkpoint of a run lives.
pub fn checkpoint_dir(run: &Path) -> PathBuf {
    run.join("checkpoint")
}

/// Writes model, tokenizer, optimizer and trainer state into `RUN/checkpoint` atomically.
pub fn save_checkpoint(
    run: &Path,
    model: &Llama,
    optimizer: &AdamW,
    state: &TrainerState,
    tokenizer_bin: &[u8],
    bos_eos: (u32, u32),
) -> Result<PathBuf, String> {
    let final_dir = checkpoint_dir(run);
    let tmp = run.join(".checkpoint.tmp");
    let old = run.join(".checkpoint.old");
    let err = |what: &str, e: &dyn std::fmt::Display| format!("saving checkpoint ({what}): {e}");
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| err(&tmp.display().to_string(), &e))?;
    // values on a GPU are read back once here; the run keeps training on the device
    let weights = model.weights_on_cpu().map_err(|e| err("model", &e))?;
    let checkpoint = Checkpoint { config: model.config.clone(), weights };
    save_native(&tmp, &checkpoint, tokenizer_bin, bos_eos.0, bos_eos.1).map_err(|e| err("model", &e))?;
    let mut moments = BTreeMap::new();
    for ((p, m), v) in optimizer.params().iter().zip(&optimizer.state().m).zip(&optimizer.state().v) {
        let name = p.name().expect("parameters are named");
        let host = |t: &llamaforge_engine::Tensor| t.to_device(llamaforge_engine::Device::Cpu);
        moments.insert(format!("m.{name}"), host(m).map_err(|e| err("optimizer", &e))?);
        moments.insert(format!("v.{name}"), host(v).map_err(|e| err("optimizer", &e))?);
    }
    let meta = [("step".to_string(), optimizer.state().step.to_string())].into_iter().collect();
    safetensors_io::write_f32_tensors(&tmp.join(OPTIMIZER_FILE), &moments, Some(meta))
        .map_err(|e| err("optimizer", &e))?;
    let json = serde_json::to_string_pretty(state).expect("serializable");
    std::fs::write(tmp.join(STATE_FILE), json).map_err(|e| err(STATE_FILE, &e))?;
    // swap: checkpoint → .old, .tmp → checkpoint, drop .old
    let _ = std::fs::remove_dir_all(&old);
    if final_dir.exists() {
        std::fs::rename(&final_dir, &old).map_err(|e| err("rename old", &e))?;
    }
    std::fs::rename(&tmp, &final_dir).map_err(|e| err("rename new", &e))?;
    let _ = std::fs::remove_dir_all(&old);
    Ok(final_dir)
}

/// Everything `--resume` restores.
pub struct Resumed {
    pub model: Llama,
    pub optimizer_state: AdamWState,
    /// Names of the parameters the moments belong to, in order (frozen ones have none).
    pub trained: Vec<String>,
    pub state: TrainerState,
}

/// Loads `RUN/checkpoint` (or the `.checkpoint.old` a crash mid-swap left behind).
pub fn load_checkpoint(run: &Path) -> Result<Resumed, String> {
    let mut dir = checkpoint_dir(run);
    if !dir.exists() && run.join(".checkpoint.old").exists() {
        dir = run.join(".checkpoint.old");
    }
    if !dir.exists() {
        return Err(format!("{}: no checkpoint to resume from", dir.display()));
    }
    let model = load_hf_dir(&dir).and_then(Checkpoint::into_model).map_err(|e| e.to_string())?;
    let state_path = dir.join(STATE_FILE);
    let text = std::fs::read_to_string(&state_path).map_err(|e| format!("{}: {e}", state_path.display()))?;
    let state: TrainerState = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", state_path.display()))?;
    let opt_path = dir.join(OPTIMIZER_FILE);
    let mut moments = safetensors_io::read_f32_tensors(&opt_path).map_err(|e| e.to_string())?;
    let (mut m, mut v) = (Vec::new(), Vec::new());
    // moments exist for the parameters the optimizer trained (frozen ones have none); the
    // caller freezes the same parameters again before it builds the optimizer
    let trained: Vec<_> = model
        .parameters()
        .into_iter()
        .filter(|p| moments.contains_key(&format!("m.{}", p.name().unwrap_or(""))))
        .collect();
    if trained.is_empty() {
        return Err(format!("{}: holds no optimizer moments", opt_path.display()));
    }
    let trained: Vec<String> = trained.iter().map(|p| p.name().expect("named").to_string()).collect();
    for name in &trained {
        let missing = |k: &str| format!("{}: missing tensor `{k}`", opt_path.display());
        m.push(moments.remove(&format!("m.{name}")).ok_or_else(|| missing(&format!("m.{name}")))?);
        v.push(moments.remove(&format!("v.{name}")).ok_or_else(|| missing(&format!("v.{name}")))?);
    }
    Ok(Resumed { model, optimizer_state: AdamWState { step: state.step, m, v }, trained, state })
}
