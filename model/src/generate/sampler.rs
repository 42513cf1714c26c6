//! Choosing the next token from logits: greedy, temperature, nucleus (top-p), seeded.

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::parallel::parallel_for;

/// Chunks of `log_prob`'s sum of exponentials.
const LSE_CHUNKS: usize = 8;

/// Vocabulary size from which `log_prob` sums in parallel.
const LSE_PARALLEL_MIN: usize = 4096;

/// How the next token is picked.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Sampling {
    /// The most likely token (the first one on ties, as llama2.c).
    Greedy,
    /// Sample from `softmax(logits / temperature)`, restricted to the smallest set of most
    /// likely tokens whose probability reaches `top_p` (1.0 = no restriction).
    Temperature { temperature: f32, top_p: f32 },
}

impl Sampling {
    /// Greedy for temperature 0, otherwise temperature + top-p.
    pub fn from_temperature(temperature: f32, top_p: f32) -> Sampling {
        if temperature <= 0.0 {
            Sampling::Greedy
        } else {
            Sampling::Temperature { temperature, top_p }
        }
    }
}

/// A sampling rule with its own seeded random stream and reused buffers.
pub struct Sampler {
    sampling: Sampling,
    rng: StdRng,
    probs: Vec<f32>,
    order: Vec<u32>,
}

impl Sampler {
    pub fn new(sampling: Sampling, seed: u64) -> Sampler {
        Sampler { sampling, rng: StdRng::seed_from_u64(seed), probs: Vec::new(), order: Vec::new() }
    }

    /// Picks a token id from `logits` `[V]`.
    pub fn sample(&mut self, logits: &[f32]) -> u32 {
        match self.sampling {
            Sampling::Greedy => argmax(logits),
            Sampling::Temperature { temperature, top_p } => {
                self.probs.clear();
                let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                self.probs.extend(logits.iter().map(|&l| ((l - max) / temperature).exp()));
                let total: f32 = self.probs.iter().sum();
                self.probs.iter_mut().for_each(|p| *p /= total);
                let r: f32 = self.rng.random();
                if top_p <= 0.0 || top_p >= 1.0 {
                    sample_from(&self.probs, r)
                } else {
                    self.sample_top_p(top_p, r)
                }
            }
        }
    }

    /// Nucleus sampling: sort by probability, keep the prefix whose mass first exceeds
    /// `top_p`, sample inside it.
    fn sample_top_p(&mut self, top_p: f32, r: f32) -> u32 {
        let n = self.probs.len();
        // tokens below (1 − p)/(n − 1) can never be in the nucleus; dropping them first
        // keeps the sort short (llama2.c's trick)
        let cutoff = (1.0 - top_p) / (n.max(2) - 1) as f32;
        self.order.clear();
        self.order.extend((0..n as u32).filter(|&i| self.probs[i as usize] >= cutoff));
        let probs = &self.probs;
        self.order.sort_by(|&a, &b| probs[b as usize].total_cmp(&probs[a as usize]));
        let mut mass = 0.0;
        let mut last = self.order.len().saturating_sub(1);
        for (i, &id) in self.order.iter().enumerate() {
            mass += probs[id as usize];
            if mass > top_p {
                last = i;
                break;
            }
        }
        let target = r * mass;
        let mut acc = 0.0;
        for &id in &self.order[..=last] {
            acc += probs[id as usize];
            if target < acc {
                return id;
            }
        }
        self.order[last]
    }
}

/// Index of the largest value (the first one on ties).
pub fn argmax(values: &[f32]) -> u32 {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best as u32
}

/// Inverse-CDF sample of a probability vector with `r` in [0, 1).
fn sample_from(probs: &[f32], r: f32) -> u32 {
    let mut acc = 0.0;
    for (i, &p) in probs.iter().enumerate() {
        acc += p;
        if r < acc {
            return i as u32;
        }
    }
    probs.len() as u32 - 1
}

/// `log softmax(logits)[token]` at temperature 1 (accumulated in f64). The f64 `exp` over
/// a 32000-word vocabulary costs ~10% of a 15M token, so large vocabularies are summed in
/// fixed chunks in parallel; the partial sums are added in chunk order, so the
/// result does not depend on which thread summed what.
pub fn log_prob(logits: &[f32], token: u32) -> f32 {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let chunk = logits.len().div_ceil(LSE_CHUNKS).max(1);
    let partials: [AtomicU64; LSE_CHUNKS] = Default::default();
    let sum_chunks = |chunks: Range<usize>| {
        for c in chunks {
            let part = &logits[(c * chunk).min(logits.len())..((c + 1) * chunk).min(logits.len())];
            let sum: f64 = part.iter().map(|&l| (l as f64 - max).exp()).sum();
            partials[c].store(sum.to_bits(), Ordering::Relaxed);
        }
    };
    if logits.len() >= LSE_PARALLEL_MIN {
        parallel_for(LSE_CHUNKS, 1, &sum_chunks);
    } else {
        sum_chunks(0..LSE_CHUNKS);
    }
    let sum: f64 = partials.iter().map(|p| f64::from_bits(p.load(Ordering::Relaxed))).sum();
    (logits[token as usize] as f64 - max - sum.ln()) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_prob_of_a_large_vocabulary_matches_the_plain_sum() {
        let logits: Vec<f32> = (0..32000).map(|i| ((i * 7919) % 1000) as f32 * 0.01 - 5.0).collect();
        let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
        let sum: f64 = logits.iter().map(|&l| (l as f64 - max).exp()).sum();
        for token in [0u32, 1234, 31999] {
            let expected = (logits[token as usize] as f64 - max - sum.ln()) as f32;
            for _ in 0..10 {
                assert!((log_prob(&logits, token) - expected).abs() <= 1e-6, "token {token}");
            }
        }
    }
}
