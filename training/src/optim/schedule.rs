//! Linear warmup, then cosine decay to a floor (the paper: 10% of the peak) at the last
//! step.

use serde::{Deserialize, Serialize};

/// The learning rate as a function of the 0-based step.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct CosineSchedule {
    pub peak_lr: f64,
    pub warmup_steps: u64,
    pub total_steps: u64,
    /// The final learning rate as a fraction of the peak (0.1 in the paper).
    pub final_fraction: f64,
}

impl CosineSchedule {
    /// Learning rate at 0-based `step`: `peak·(step+1)/warmup` during warmup, then
    /// `floor + ½(peak − floor)(1 + cos(π·p))` with `p` going from 0 after warmup to 1 at
    /// the last step (`total_steps − 1`); the floor after that.
    pub fn lr(&self, step: u64) -> f64 {
        let floor = self.peak_lr * self.final_fraction;
        if step < self.warmup_steps {
            return self.peak_lr * (step + 1) as f64 / self.warmup_steps as f64;
        }
        let last = self.total_steps.saturating_sub(1);
        if step >= last {
            return if last < self.warmup_steps { self.peak_lr } else { floor };
        }
        let span = (last - self.warmup_steps).max(1) as f64;
        let progress = (step - self.warmup_steps) as f64 / span;
        floor + 0.5 * (self.peak_lr - floor) * (1.0 + (std::f64::consts::PI * progress).cos())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        let s = CosineSchedule { peak_lr: 1e-3, warmup_steps: 10, total_steps: 110, final_fraction: 0.1 };
        assert!((s.lr(0) - 1e-4).abs() < 1e-15, "first warmup step is peak/warmup");
        assert!((s.lr(9) - 1e-3).abs() < 1e-15, "warmup ends at the peak");
        assert!((s.lr(10) - 1e-3).abs() < 1e-15, "cosine starts at the peak");
        // halfway through the cosine: floor + (peak - floor)/2
        let mid = 10 + 99 / 2;
        let p = (mid - 10) as f64 / 99.0;
        let expected = 1e-4 + 0.5 * 9e-4 * (1.0 + (std::f64::consts::PI * p).cos());
        assert!((s.lr(mid) - expected).abs() < 1e-15);
        assert!((s.lr(109) - 1e-4).abs() < 1e-15, "last step is 10% of the peak");
        assert!((s.lr(500) - 1e-4).abs() < 1e-15);
        for step in 10..109 {
            assert!(s.lr(step + 1) <= s.lr(step), "monotone decay after warmup");
        }
    }
}
