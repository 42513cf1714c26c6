//! Training and validation windows over a token stream.

use rand::{Rng, SeedableRng};

use super::DataError;

/// `batch` windows of `seq + 1` tokens, row-major `[B, T+1]`: inputs are `[.., :T]`,
/// next-token targets `[.., 1:]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Windows {
    pub batch: usize,
    pub seq: usize,
    pub ids: Vec<u32>,
}

/// Seeded random windows: the windows of training step `step` depend only on `(seed,
/// step)`, so a resumed run draws exactly the batches an uninterrupted one would.
pub fn random_windows(stream: &[u32], batch: usize, seq: usize, seed: u64, step: u64) -> Result<Windows, DataError> {
    if stream.len() < seq + 1 {
        return Err(DataError::TooShort { what: "training data".into(), tokens: stream.len(), needed: seq + 1 });
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ step.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut ids = Vec::with_capacity(batch * (seq + 1));
    for _ in 0..batch {
        let start = rng.random_range(0..=stream.len() - seq - 1);
        ids.extend_from_slice(&stream[start..start + seq + 1]);
    }
    Ok(Windows { batch, seq, ids })
}

/// Up to `count` non-overlapping windows of `seq + 1` tokens from the start of the
/// validation stream (consecutive windows share their boundary token, as in
/// `stream[i·T .. i·T + T + 1]`), so validation loss is comparable across runs.
pub fn validation_windows(stream: &[u32], seq: usize, count: usize) -> Result<Windows, DataError> {
    let available = (stream.len().saturating_sub(1)) / seq.max(1);
    let n = count.min(available);
    if n == 0 {
        return Err(DataError::TooShort { what: "validation data".into(), tokens: stream.len(), needed: seq + 1 });
    }
    let mut ids = Vec::with_capacity(n * (seq + 1));
    for i in 0..n {
        ids.extend_from_slice(&stream[i * seq..i * seq + seq + 1]);
    }
    Ok(Windows { batch: n, seq, ids })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_reproducible_per_step() {
        let stream: Vec<u32> = (0..1000).collect();
        let a = random_windows(&stream, 4, 16, 7, 3).unwrap();
        assert_eq!(a, random_windows(&stream, 4, 16, 7, 3).unwrap());
        assert_ne!(a, random_windows(&stream, 4, 16, 7, 4).unwrap());
        for w in a.ids.chunks(17) {
            assert!(w.windows(2).all(|p| p[1] == p[0] + 1), "a window is a contiguous slice");
        }
        let v = validation_windows(&stream, 100, 64).unwrap();
        assert_eq!(v.batch, 9);
        assert_eq!(&v.ids[101..103], &[100, 101]);
    }
}
