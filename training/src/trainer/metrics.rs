//! Metrics: one JSON object per line in `RUN/metrics.jsonl` — `{"step", "loss", "lr",
//! "grad_norm", "tokens_per_s", "elapsed_s", …}` for training steps and `{"step",
//! "val_loss", …}` for validations, where `…` are a stage's own numeric fields (SFT's
//! answer tokens, a reward model's accuracy, PPO's KL). `llamaforge plot` reads it back.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// One line of metrics.jsonl.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MetricsRecord {
    pub step: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loss: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lr: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grad_norm: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tokens_per_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub elapsed_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub val_loss: Option<f64>,
    /// Stage-specific fields, written at the top level of the line.
    #[serde(flatten)]
    pub extra: BTreeMap<String, f64>,
}

/// Appends records to metrics.jsonl, flushing each line.
pub struct MetricsLog {
    path: PathBuf,
    file: std::fs::File,
}

impl MetricsLog {
    /// Opens `RUN/metrics.jsonl`. A fresh run truncates it; a resumed run keeps only the
    /// records up to the resumed step, so the file reads as one uninterrupted run.
    pub fn open(run: &Path, resume_step: Option<u64>) -> std::io::Result<Self> {
        let path = run.join("metrics.jsonl");
        let kept: Vec<String> = match resume_step {
            Some(step) => read_metrics(&path)
                .unwrap_or_default()
                .into_iter()
                .filter(|r| r.step <= step)
                .map(|r| serde_json::to_string(&r).expect("serializable"))
                .collect(),
            None => Vec::new(),
        };
        let mut file = std::fs::File::create(&path)?;
        for line in kept {
            writeln!(file, "{line}")?;
        }
        Ok(MetricsLog { path, file })
    }

    pub fn write(&mut self, record: &MetricsRecord) -> std::io::Result<()> {
        writeln!(self.file, "{}", serde_json::to_string(record).expect("serializable"))?;
        self.file.flush()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Reads every record of a metrics.jsonl file, naming the line of a bad one.
pub fn read_metrics(path: &Path) -> Result<Vec<MetricsRecord>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| serde_json::from_str(l).map_err(|e| format!("{}:{}: {e}", path.display(), i + 1)))
        .collect()
}
