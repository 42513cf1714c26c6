//! `Tokenizer::train`: SentencePiece's BPE trainer (model_type=bpe, byte_fallback=true).
//!
//! 1. Cut each document into sentences (lines, by default, as SentencePiece reads its
//!    training file), each sentence into words the way the encoder will see it: special
//!    tokens out, a dummy space in front, a new word before every space ('▁' starts words).
//! 2. Count characters; the most frequent ones covering `character_coverage` of the text
//!    become pieces, the rare rest is left to byte fallback (and blocks merges).
//! 3. Merge the most frequent adjacent pair until the vocabulary is full (bpe_trainer.rs).
//!    Merge k gets score -k, so at encode time earlier merges win.
//! 4. Lay the vocabulary out as SentencePiece does: `<unk>`, `<s>`, `</s>`, the 256 bytes,
//!    the special tokens, the merged pieces in merge order, then the characters by
//!    frequency (scores continuing below the last merge).

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::bpe_trainer::{BpeTrainer, MergeRules, SymbolTable};
use super::error::{memory_path, TokenizerError};
use super::split::{words_at_every_space, Segment, SpecialMatcher};
use super::vocab::{reserved_pieces, Piece, PieceKind, SPACE_SYMBOL};
use super::{Tokenizer, TokenizerOptions};

/// Trainer settings; the defaults are SentencePiece's (as LLaMA used them, except
/// `split_digits`, which LLaMA turned on).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainOptions {
    /// Fraction of the text's characters that must have a piece of their own; rarer
    /// characters are encoded as bytes. SentencePiece: 0.9995.
    pub character_coverage: f64,
    /// Longest learned piece, in characters. SentencePiece: 16.
    pub max_piece_chars: usize,
    /// Never merge characters of different Unicode scripts (letters with punctuation).
    pub split_by_script: bool,
    /// Keep every digit a piece of its own.
    pub split_digits: bool,
    /// See [`TokenizerOptions::add_dummy_prefix`].
    pub add_dummy_prefix: bool,
    /// Treat every line as a sentence of its own, as SentencePiece does with its training
    /// file: no piece spans a newline, each line gets the dummy prefix, and '\n' itself is
    /// left to byte fallback. With this on (the default) the trainer reproduces
    /// SentencePiece's vocabulary; off, it learns from documents exactly as the encoder
    /// will see them (pieces such as ".\n"), which on TinyStories saves about 3% of tokens.
    pub split_lines: bool,
    /// User-defined special tokens, given ids right after the byte pieces.
    pub special_tokens: Vec<String>,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            character_coverage: 0.9995,
            max_piece_chars: 16,
            split_by_script: true,
            split_digits: false,
            add_dummy_prefix: true,
            split_lines: true,
            special_tokens: Vec::new(),
        }
    }
}

impl Tokenizer {
    /// Trains a tokenizer of at most `vocab_size` pieces on `documents` (pass `[text]`
    /// for a single text). The vocabulary is smaller only if the text runs out of pairs.
    pub fn train<I, S>(documents: I, vocab_size: usize, options: &TrainOptions) -> Result<Tokenizer, TokenizerError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut pieces = reserved_pieces();
        let n_fixed = pieces.len() + options.special_tokens.len();
        check_options(options, vocab_size, n_fixed)?;
        let special_texts: Vec<&str> = options.special_tokens.iter().map(String::as_str).collect();
        let matcher = SpecialMatcher::new(special_texts.iter().copied().zip(0..));

        let word_counts = count_words(documents, &matcher, options);
        let chars = covered_chars(&word_counts, options.character_coverage, vocab_size - n_fixed);
        let mut symbols = SymbolTable::default();
        let char_ids: HashMap<char, u32> = chars.iter().map(|&c| (c, symbols.add_char(c))).collect();
        let words = symbol_sequences(&word_counts, &char_ids);
        drop(word_counts);

        let rules = MergeRules {
            max_piece_chars: options.max_piece_chars,
            split_by_script: options.split_by_script,
            split_digits: options.split_digits,
        };
        let mut trainer = BpeTrainer::new(symbols, rules, words);
        let merge_budget = vocab_size - n_fixed - chars.len();
        let mut merged_symbols = Vec::with_capacity(merge_budget);
        let mut seen = HashSet::new();
        while merged_symbols.len() < merge_budget {
            let Some((a, b)) = trainer.best_pair() else { break };
            let merged = trainer.merge(a, b);
            // A text reached along a second merge path is already a piece.
            if seen.insert(merged) {
                merged_symbols.push(merged);
            }
        }

        pieces.extend(options.special_tokens.iter().map(|t| Piece::new(t.as_str(), 0.0, PieceKind::UserDefined)));
        let learned = merged_symbols.iter().map(|&id| trainer.symbols.texts[id as usize].clone());
        let learned = learned.chain(chars.iter().map(char::to_string));
        pieces.extend(learned.enumerate().map(|(rank, text)| Piece::new(text, -(rank as f32), PieceKind::Normal)));
        let tokenizer_options = TokenizerOptions { add_dummy_prefix: options.add_dummy_prefix };
        Tokenizer::build(pieces, tokenizer_options, Some(options.clone()), &memory_path())
    }
}

fn check_options(options: &TrainOptions, vocab_size: usize, n_fixed: usize) -> Result<(), TokenizerError> {
    let fail = |reason: String| Err(TokenizerError::InvalidTraining(reason));
    if !(options.character_coverage > 0.0 && options.character_coverage <= 1.0) {
        return fail(format!("character_coverage {} is not in (0, 1]", options.character_coverage));
    }
    if options.max_piece_chars < 2 {
        return fail(format!("max_piece_chars {} leaves nothing to merge", options.max_piece_chars));
    }
    if vocab_size <= n_fixed {
        return fail(format!(
            "vocab_size {vocab_size} leaves no room for learned pieces after the {n_fixed} reserved \
             and special pieces"
        ));
    }
    let reserved: HashSet<String> = reserved_pieces().into_iter().map(|piece| piece.text).collect();
    let mut seen = HashSet::new();
    for token in &options.special_tokens {
        if token.is_empty() || !seen.insert(token) || reserved.contains(token) {
            return fail(format!("special token {token:?} is empty, repeated or a reserved piece"));
        }
    }
    Ok(())
}

/// Word → number of occurrences. Words keep the input's ' ' (a leading space, or a lone
/// space); the dummy prefix shows up as a leading space on a sentence's first word.
fn count_words<I, S>(documents: I, matcher: &SpecialMatcher, options: &TrainOptions) -> HashMap<Box<str>, u64>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut counts: HashMap<Box<str>, u64> = HashMap::new();
    let mut add = |word: &str| match counts.get_mut(word) {
        Some(count) => *count += 1,
        None => {
            counts.insert(word.into(), 1);
        }
    };
    let mut count_sentence = |sentence: &str| {
        let mut at_start = true;
        matcher.split(sentence, |segment| {
            if let Segment::Text(text) = segment {
                let mut words = words_at_every_space(text);
                if at_start && options.add_dummy_prefix {
                    // Same as the encoder: '▁' + text, cut again before every space.
                    if text.starts_with(' ') {
                        add(" ");
                    } else if let Some(first) = words.next() {
                        add(&format!(" {first}"));
                    }
                }
                words.for_each(&mut add);
            }
            at_start = false;
        });
    };
    for document in documents {
        let document = document.as_ref();
        if options.split_lines {
            document.split('\n').for_each(&mut count_sentence);
        } else {
            count_sentence(document);
        }
    }
    counts
}

/// The characters that get pieces: most frequent first until `coverage` of all characters
/// is reached (SentencePiece's rule), at most `max_chars`. Ties go to the lower code point.
fn covered_chars(word_counts: &HashMap<Box<str>, u64>, coverage: f64, max_chars: usize) -> Vec<char> {
    let mut char_counts: HashMap<char, u64> = HashMap::new();
    for (word, &count) in word_counts {
        for c in word.chars() {
            match c {
                ' ' => *char_counts.entry(SPACE_SYMBOL).or_default() += count,
                // A literal '▁' is always encoded as bytes (see vocab.rs).
                SPACE_SYMBOL => {}
                c => *char_counts.entry(c).or_default() += count,
            }
        }
    }
    let total: u64 = char_counts.values().sum();
    let mut sorted: Vec<(char, u64)> = char_counts.into_iter().collect();
    sorted.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut covered = 0u64;
    let mut chars = Vec::new();
    for (c, count) in sorted {
        if chars.len() == max_chars || covered as f64 >= coverage * total as f64 {
            break;
        }
        covered += count;
        chars.push(c);
    }
    chars
}

/// Each word as runs of covered-character symbols. A character without a piece is a
/// barrier: it will be bytes, and bytes never merge, so the word is cut there.
fn symbol_sequences(word_counts: &HashMap<Box<str>, u64>, char_ids: &HashMap<char, u32>) -> Vec<(Vec<u32>, u64)> {
    let mut sequences = Vec::with_capacity(word_counts.len());
    let mut push = |run: &mut Vec<u32>, count: u64| {
        if run.len() >= 2 {
            sequences.push((std::mem::take(run), count));
        }
        run.clear();
    };
    // Sorted so that training does not depend on HashMap iteration order.
    let mut words: Vec<(&Box<str>, &u64)> = word_counts.iter().collect();
    words.sort_unstable();
    for (word, &count) in words {
        let mut run = Vec::new();
        for c in word.chars() {
            let id = match c {
                ' ' => char_ids.get(&SPACE_SYMBOL),
                SPACE_SYMBOL => None,
                c => char_ids.get(&c),
            };
            match id {
                Some(&id) => run.push(id),
                None => push(&mut run, count),
            }
        }
        push(&mut run, count);
    }
    sequences
}
