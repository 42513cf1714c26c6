//! Packing fine-tuning examples into full windows, as the LLaMA-2 paper does for SFT
//! ("we concatenate all the prompts and answers from the training set"): whole examples
//! are laid end to end in rows of `T + 1` tokens, each example keeping its own `<s> …
//! </s>` separators, and only the tokens its mask marks (the assistant's answers) are
//! learned. An example is never split across rows, so every answer token is learned
//! exactly once per epoch with its whole prompt in view; what is left of a row is padding
//! whose targets are ignored. (Attention still reaches back into the earlier examples of a
//! row, as in pretraining on packed documents; the BOS at each example start is what
//! separates them.)

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;

/// One tokenized example: ids and, per id, whether it is learned (predicted with loss).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MaskedExample {
    pub ids: Vec<u32>,
    pub learn: Vec<bool>,
}

/// Rows of packed examples: `ids` and `learn` are `[rows, T + 1]`, row-major.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackedRows {
    pub rows: usize,
    /// Positions per row the model sees (`T`); rows hold `T + 1` tokens so that position
    /// t predicts token t + 1.
    pub seq: usize,
    pub ids: Vec<u32>,
    pub learn: Vec<bool>,
    /// Examples longer than `T + 1` that were cut to fit (their ends are not learned).
    pub truncated: usize,
    /// Learned tokens in all rows.
    pub learned_tokens: usize,
}

impl PackedRows {
    /// Row `r`'s ids and learn mask.
    pub fn row(&self, r: usize) -> (&[u32], &[bool]) {
        let w = self.seq + 1;
        (&self.ids[r * w..(r + 1) * w], &self.learn[r * w..(r + 1) * w])
    }
}

/// Packs `examples` (in a seeded random order) into rows of `seq + 1` tokens, first fit
/// in order: an example goes into the current row if it fits, else it starts a new row.
/// Empty space is `pad_id` with `learn = false`.
pub fn pack_examples(examples: &[MaskedExample], seq: usize, pad_id: u32, seed: u64) -> PackedRows {
    assert!(seq > 0, "pack_examples: seq must be positive");
    let width = seq + 1;
    let mut order: Vec<usize> = (0..examples.len()).collect();
    order.shuffle(&mut StdRng::seed_from_u64(seed));
    let mut out = PackedRows { rows: 0, seq, ids: Vec::new(), learn: Vec::new(), truncated: 0, learned_tokens: 0 };
    let mut used = width; // no open row yet
    for i in order {
        let ex = &examples[i];
        debug_assert_eq!(ex.ids.len(), ex.learn.len(), "example {i}: ids and mask differ in length");
        let len = ex.ids.len().min(width);
        if len == 0 {
            continue;
        }
        if ex.ids.len() > width {
            out.truncated += 1;
        }
        if used + len > width {
            // pad out the open row and start a new one
            out.ids.extend(std::iter::repeat_n(pad_id, width - used));
            out.learn.extend(std::iter::repeat_n(false, width - used));
            out.rows += 1;
            used = 0;
        }
        out.ids.extend_from_slice(&ex.ids[..len]);
        out.learn.extend_from_slice(&ex.learn[..len]);
        used += len;
    }
    if out.rows > 0 || used < width {
        out.ids.extend(std::iter::repeat_n(pad_id, width - used));
        out.learn.extend(std::iter::repeat_n(false, width - used));
    }
    out.rows = out.ids.len() / width;
    // the first token of a row is never a target (nothing precedes it)
    out.learned_tokens = (0..out.rows).map(|r| out.row(r).1[1..].iter().filter(|&&l| l).count()).sum();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example(len: usize, answer_from: usize, base: u32) -> MaskedExample {
        MaskedExample {
            ids: (0..len as u32).map(|i| base + i).collect(),
            learn: (0..len).map(|i| i >= answer_from).collect(),
        }
    }

    #[test]
    fn every_learned_token_is_packed_once_and_examples_stay_whole() {
        let examples: Vec<MaskedExample> =
            (0..40).map(|i| example(3 + (i * 7) % 11, 2, 1000 * (i as u32 + 1))).collect();
        let packed = pack_examples(&examples, 16, 0, 7);
        let expected: usize = examples.iter().map(|e| e.learn.iter().filter(|&&l| l).count()).sum();
        // no example starts a row with a learned token here, so none is lost to position 0
        assert_eq!(packed.learned_tokens, expected);
        assert_eq!(packed.truncated, 0);
        // each example's ids appear contiguously in exactly one row
        for e in &examples {
            let hits = (0..packed.rows).filter(|&r| packed.row(r).0.windows(e.ids.len()).any(|w| w == e.ids)).count();
            assert_eq!(hits, 1, "example starting {} appears {hits} times", e.ids[0]);
        }
        // rows are full width and mostly full (first fit with lengths ≤ 13 in rows of 17)
        assert_eq!(packed.ids.len(), packed.rows * 17);
        let pad = packed.ids.iter().filter(|&&t| t == 0).count();
        assert!(pad < packed.ids.len() / 3, "{pad} pad tokens of {}", packed.ids.len());
    }

    #[test]
    fn long_examples_are_cut_and_counted() {
        let packed = pack_examples(&[example(30, 5, 1), example(4, 1, 100)], 9, 0, 1);
        assert_eq!(packed.truncated, 1);
        assert_eq!(packed.rows, 2);
    }

    #[test]
    fn the_order_is_seeded() {
        let examples: Vec<MaskedExample> = (0..10).map(|i| example(4, 1, 10 * i + 1)).collect();
        assert_eq!(pack_examples(&examples, 8, 0, 3), pack_examples(&examples, 8, 0, 3));
        assert_ne!(pack_examples(&examples, 8, 0, 3).ids, pack_examples(&examples, 8, 0, 4).ids);
    }
}
