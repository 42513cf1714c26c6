//! llama2.c's trained stories260K model: greedy generation from BOS for 200 positions must
//! reproduce `run stories260K.bin -z tok512.bin -t 0.0 -n 200` byte for byte.

use std::path::PathBuf;

use llamaforge_model::checkpoint::load_llama2c;
use llamaforge_model::generate::{generate, GenerateOptions, InferenceModel, Sampling};
use llamaforge_model::tokenizer::{Tokenizer, BOS_ID};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn stories260k_greedy_200_matches_llama2c_byte_for_byte() {
    let checkpoint = load_llama2c(&root().join("tests/fixtures/stories260K.bin")).unwrap();
    let tokenizer = Tokenizer::load_llama2c(root().join("tests/fixtures/tok512.bin"), Some(512)).unwrap();
    let model = InferenceModel::from_weights(&checkpoint.config, &checkpoint.weights).unwrap();
    // run.c: BOS at position 0, then a forward + argmax at positions 0..200 — 200 sampled
    // tokens, each printed (none is fed back after the last); sampling BOS ends the story
    let options =
        GenerateOptions { max_new_tokens: 200, sampling: Sampling::Greedy, seed: 0, stop_tokens: vec![BOS_ID] };
    let out = generate(&model, &[vec![BOS_ID]], &options).unwrap().remove(0);
    let mut text = Vec::new();
    let mut prev = BOS_ID;
    for &token in out.tokens.iter().filter(|&&t| t != BOS_ID) {
        text.extend_from_slice(tokenizer.decode_piece(prev, token));
        prev = token;
    }
    // the fixture is run.c's stdout without its final newline
    let expected = std::fs::read(root().join("data/stories260K_greedy200.txt")).unwrap();
    assert!(expected.starts_with(b"Once upon a time, there was a little girl named Lily."));
    assert_eq!(String::from_utf8_lossy(&text), String::from_utf8_lossy(&expected));
    assert_eq!(text, expected);
}
