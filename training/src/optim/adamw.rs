//! AdamW with decoupled weight decay (Loshchilov & Hutter), PyTorch's formulation, over
//! named autograd parameters. The update itself is the engine's fused `adamw` op.

use llamaforge_autograd::{no_grad, Var};
use llamaforge_engine::{AdamWParams, Tensor};
use serde::{Deserialize, Serialize};

/// Hyperparameters; the defaults are the LLaMA-2 paper's (β1 0.9, β2 0.95, eps 1e-5,
/// weight decay 0.1).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct AdamWConfig {
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
    pub decay: DecayPolicy,
}

impl Default for AdamWConfig {
    fn default() -> Self {
        AdamWConfig { beta1: 0.9, beta2: 0.95, eps: 1e-5, weight_decay: 0.1, decay: DecayPolicy::MatricesOnly }
    }
}

/// Which parameters get weight decay.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecayPolicy {
    /// 2-D weight matrices (linear layers, embeddings) only; norm gains are not decayed,
    /// as in LLaMA-style training code.
    MatricesOnly,
    /// Every parameter (torch.optim.AdamW's behaviour when given one parameter group).
    All,
}

/// The optimizer's moment buffers, in parameter order (saved in checkpoints).
#[derive(Clone, Debug)]
pub struct AdamWState {
    /// Number of steps taken (bias correction uses `step + 1` for the next one).
    pub step: u64,
    pub m: Vec<Tensor>,
    pub v: Vec<Tensor>,
}

/// AdamW over a fixed list of parameters.
pub struct AdamW {
    params: Vec<Var>,
    config: AdamWConfig,
    state: AdamWState,
}

impl AdamW {
    pub fn new(params: Vec<Var>, config: AdamWConfig) -> Self {
        // the moments live where their parameter does (the fused update reads all four)
        let zeros = |p: &Var| {
            let value = p.value();
            value.zeros_like().to_device(value.device()).expect("the parameter's device is open")
        };
        let state =
            AdamWState { step: 0, m: params.iter().map(zeros).collect(), v: params.iter().map(zeros).collect() };
        AdamW { params, config, state }
    }

    pub fn params(&self) -> &[Var] {
        &self.params
    }

    pub fn config(&self) -> &AdamWConfig {
        &self.config
    }

    pub fn state(&self) -> &AdamWState {
        &self.state
    }

    /// Restores moments from a checkpoint (shapes must match the parameters).
    pub fn set_state(&mut self, state: AdamWState) -> Result<(), String> {
        if state.m.len() != self.params.len() || state.v.len() != self.params.len() {
            return Err(format!(
                "optimizer state has {} tensors, model has {} parameters",
                state.m.len(),
                self.params.len()
            ));
        }
        for ((p, m), v) in self.params.iter().zip(&state.m).zip(&state.v) {
            if m.shape() != p.shape().as_slice() || v.shape() != p.shape().as_slice() {
                return Err(format!("optimizer state shape mismatch for {}", p.name().unwrap_or("?")));
            }
        }
        let mut state = state;
        for ((p, m), v) in self.params.iter().zip(&mut state.m).zip(&mut state.v) {
            let device = p.value().device();
            *m = m.to_device(device).map_err(|e| e.to_string())?;
            *v = v.to_device(device).map_err(|e| e.to_string())?;
        }
        self.state = state;
        Ok(())
    }

    /// Applies one update with learning rate `lr` to every parameter that has a gradient,
    /// using `grad · grad_scale` (the clipping factor), then clears the gradients.
    pub fn step(&mut self, lr: f64, grad_scale: f64) {
        self.state.step += 1;
        let step = self.state.step;
        no_grad(|| {
            for (i, p) in self.params.iter().enumerate() {
                let Some(grad) = p.take_grad() else { continue };
                let grad = if grad_scale == 1.0 { grad } else { grad.scale(grad_scale) };
                let decays = match self.config.decay {
                    DecayPolicy::All => true,
                    DecayPolicy::MatricesOnly => p.shape().len() >= 2,
                };
                let hp = AdamWParams {
                    lr,
                    beta1: self.config.beta1,
                    beta2: self.config.beta2,
                    eps: self.config.eps,
                    weight_decay: if decays { self.config.weight_decay } else { 0.0 },
                    step,
                };
                let (m, v) = (&mut self.state.m[i], &mut self.state.v[i]);
                p.update_value(|value| Tensor::adamw(value, &grad, m, v, hp));
            }
        });
    }

    /// Clears every gradient without stepping.
    pub fn zero_grad(&self) {
        for p in &self.params {
            p.zero_grad();
        }
    }
}
