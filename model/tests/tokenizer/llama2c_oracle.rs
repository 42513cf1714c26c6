//! llama2.c's `encode` (run.c), ported literally: the oracle the encoder is tested against.
//! Quadratic and allocation-heavy on purpose — it is the algorithm as written, not a
//! second optimized implementation that could share the first one's mistakes.

use std::collections::HashMap;

use llamaforge_model::tokenizer::{BOS_ID, EOS_ID};

/// Pieces as run.c sees them: tokenizer.bin texts (spaces as ' ') and scores.
pub fn llama2c_vocab(bytes: &[u8]) -> Vec<(Vec<u8>, f32)> {
    let mut pieces = Vec::new();
    let mut at = 4;
    while at < bytes.len() {
        let score = f32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
        let len = i32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
        pieces.push((bytes[at + 8..at + 8 + len].to_vec(), score));
        at += 8 + len;
    }
    pieces
}

/// run.c `encode`: dummy " ", per-codepoint lookup with byte fallback (+3), then merge the
/// best-scoring adjacent pair (first one on ties) until none is in the vocabulary.
pub fn llama2c_encode(vocab: &[(Vec<u8>, f32)], text: &str, bos: bool, eos: bool) -> Vec<u32> {
    let lookup: HashMap<&[u8], u32> = vocab.iter().enumerate().map(|(id, (t, _))| (t.as_slice(), id as u32)).collect();
    let mut tokens = Vec::new();
    if bos {
        tokens.push(BOS_ID);
    }
    if !text.is_empty() {
        tokens.push(lookup[b" ".as_slice()]);
    }
    for c in text.chars() {
        let mut buf = [0; 4];
        let utf8 = c.encode_utf8(&mut buf).as_bytes();
        match lookup.get(utf8) {
            Some(&id) => tokens.push(id),
            None => tokens.extend(utf8.iter().map(|&b| u32::from(b) + 3)),
        }
    }
    loop {
        let mut best: Option<(f32, usize, u32)> = None;
        for i in 0..tokens.len().saturating_sub(1) {
            let merged = [vocab[tokens[i] as usize].0.as_slice(), vocab[tokens[i + 1] as usize].0.as_slice()].concat();
            if let Some(&id) = lookup.get(merged.as_slice()) {
                if best.is_none_or(|(score, _, _)| vocab[id as usize].1 > score) {
                    best = Some((vocab[id as usize].1, i, id));
                }
            }
        }
        let Some((_, i, id)) = best else { break };
        tokens[i] = id;
        tokens.remove(i + 1);
    }
    if eos {
        tokens.push(EOS_ID);
    }
    tokens
}
