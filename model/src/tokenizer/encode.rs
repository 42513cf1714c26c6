//! Text → token ids, with the same result as llama2.c's `encode` in run.c.
//!
//! run.c: prepend a dummy space, look every UTF-8 character up as a piece (else emit its
//! bytes as `<0xHH>` tokens), then repeatedly merge the adjacent pair whose concatenation
//! is a piece with the highest score, leftmost on ties. Done literally that is O(n²) per
//! string, so this file (1) cuts the text into words that no merge can cross and caches
//! each distinct word's tokens for the rest of the call, and (2) merges within a word with
//! a priority queue keyed by (score, position), which picks exactly run.c's pair each time.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};

use super::split::{words_at_space_runs, Segment};
use super::vocab::{Vocab, BOS_ID, EOS_ID, SPACE_STR, SPACE_SYMBOL};
use super::Tokenizer;

/// Words longer than this are encoded every time: they rarely repeat.
const MAX_CACHED_WORD_BYTES: usize = 128;
const NONE: u32 = u32::MAX;

impl Tokenizer {
    /// Encodes `text`, optionally wrapped in `<s>` … `</s>`.
    ///
    /// Spaces become '▁' and, when the text starts with plain text (not a special token),
    /// a dummy '▁' is put in front of it, as SentencePiece's `add_dummy_prefix` does.
    /// Special tokens are matched verbatim before BPE. Characters without a piece are
    /// encoded as their UTF-8 bytes (`<0xHH>`), so nothing is ever `<unk>` in a vocabulary
    /// with byte pieces.
    pub fn encode(&self, text: &str, bos: bool, eos: bool) -> Vec<u32> {
        let mut ids = Vec::with_capacity(text.len() / 3 + 2);
        if bos {
            ids.push(BOS_ID);
        }
        let mut encoder = WordEncoder::new(&self.vocab);
        let mut at_start = true;
        self.specials.split(text, |segment| {
            match segment {
                Segment::Special(id) => ids.push(id),
                Segment::Text(text) => encoder.encode_text(text, at_start && self.options.add_dummy_prefix, &mut ids),
            }
            at_start = false;
        });
        if eos {
            ids.push(EOS_ID);
        }
        ids
    }
}

/// One symbol of the word being merged; symbols form a linked list so a merge is O(1).
#[derive(Clone, Copy, Debug)]
struct Symbol {
    /// Byte range in `WordEncoder::normalized`.
    start: u32,
    len: u32,
    id: u32,
    prev: u32,
    next: u32,
    /// False for byte-fallback tokens: run.c would look "<0xE2>" + "x" up and never find
    /// it, so they simply never merge.
    mergeable: bool,
}

/// A possible merge of symbol `left` with the symbol after it into piece `id`.
#[derive(Clone, Copy, Debug)]
struct Candidate {
    score: f32,
    left_start: u32,
    left: u32,
    right: u32,
    merged_len: u32,
    id: u32,
}

impl Ord for Candidate {
    /// Highest score first; among equal scores the leftmost, as run.c's scan picks it.
    /// Scores are finite (checked when the vocabulary is built) and compared like run.c
    /// compares them, so -0.0 and 0.0 tie.
    fn cmp(&self, other: &Self) -> Ordering {
        let by_score = self.score.partial_cmp(&other.score).unwrap_or(Ordering::Equal);
        by_score.then_with(|| other.left_start.cmp(&self.left_start))
    }
}

impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Candidate {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Candidate {}

/// Reusable buffers plus the per-call word cache (word → range of already-emitted ids).
struct WordEncoder<'v, 't> {
    vocab: &'v Vocab,
    cache: HashMap<&'t str, (usize, usize)>,
    /// The word with spaces spelled '▁'; byte-fallback symbols hold a 1-byte placeholder
    /// per byte, which keeps every mergeable range on char boundaries.
    normalized: String,
    symbols: Vec<Symbol>,
    heap: BinaryHeap<Candidate>,
}

impl<'v, 't> WordEncoder<'v, 't> {
    fn new(vocab: &'v Vocab) -> Self {
        WordEncoder {
            vocab,
            cache: HashMap::new(),
            normalized: String::new(),
            symbols: Vec::new(),
            heap: BinaryHeap::new(),
        }
    }

    /// Encodes one plain-text segment, with the dummy prefix if `dummy_prefix`.
    fn encode_text(&mut self, text: &'t str, dummy_prefix: bool, out: &mut Vec<u32>) {
        if !self.vocab.word_splittable {
            // Some piece has '▁' after another character, so a merge may cross a word
            // start: merge the segment as a whole (still O(n log n) thanks to the heap).
            self.encode_word(text, dummy_prefix, out);
            return;
        }
        let mut words = words_at_space_runs(text);
        if dummy_prefix {
            // The dummy '▁' belongs to the first word, so that word is not a cache key.
            if let Some(first) = words.next() {
                self.encode_word(first, true, out);
            }
        }
        for word in words {
            if let Some(&(start, len)) = self.cache.get(word) {
                out.extend_from_within(start..start + len);
                continue;
            }
            let start = out.len();
            self.encode_word(word, false, out);
            if word.len() <= MAX_CACHED_WORD_BYTES {
                self.cache.insert(word, (start, out.len() - start));
            }
        }
    }

    /// Runs BPE on one word and appends its ids to `out`.
    fn encode_word(&mut self, word: &str, dummy_prefix: bool, out: &mut Vec<u32>) {
        self.normalized.clear();
        self.symbols.clear();
        self.heap.clear();
        let vocab = self.vocab;
        let mut utf8 = [0u8; 4];
        if dummy_prefix {
            // Without a "▁" piece run.c would emit an invalid id here; skipping the prefix
            // keeps the output valid and decode's leading-space rule consistent.
            if let Some(space_id) = vocab.space_id {
                self.push_symbol(space_id, SPACE_STR, true);
            }
        }
        for c in word.chars() {
            let text: &str = c.encode_utf8(&mut utf8);
            match c {
                // A literal '▁' must not turn into a space on decode: always bytes.
                SPACE_SYMBOL => self.push_bytes(text.as_bytes()),
                ' ' => match vocab.space_id {
                    Some(id) => self.push_symbol(id, SPACE_STR, true),
                    None => self.push_bytes(b" "),
                },
                _ => match vocab.normal_id(text) {
                    Some(id) => self.push_symbol(id, text, true),
                    None => self.push_bytes(text.as_bytes()),
                },
            }
        }
        if self.symbols.len() > 1 {
            self.merge();
        }
        let mut index = if self.symbols.is_empty() { NONE } else { 0 };
        while index != NONE {
            let symbol = self.symbols[index as usize];
            out.push(symbol.id);
            index = symbol.next;
        }
    }

    fn push_symbol(&mut self, id: u32, text: &str, mergeable: bool) {
        let index = self.symbols.len() as u32;
        self.symbols.push(Symbol {
            start: self.normalized.len() as u32,
            len: text.len() as u32,
            id,
            prev: if index == 0 { NONE } else { index - 1 },
            next: NONE,
            mergeable,
        });
        if index > 0 {
            self.symbols[index as usize - 1].next = index;
        }
        self.normalized.push_str(text);
    }

    fn push_bytes(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.push_symbol(self.vocab.byte_ids[byte as usize], "\0", false);
        }
    }

    /// The greedy merge loop: always the best-scoring, then leftmost, adjacent pair.
    fn merge(&mut self) {
        for left in 0..self.symbols.len() as u32 - 1 {
            self.add_candidate(left, left + 1);
        }
        while let Some(candidate) = self.heap.pop() {
            let left = self.symbols[candidate.left as usize];
            let right = self.symbols[candidate.right as usize];
            // Stale if either side has since merged with something else.
            if left.len == 0
                || right.len == 0
                || left.next != candidate.right
                || left.len + right.len != candidate.merged_len
            {
                continue;
            }
            let merged = &mut self.symbols[candidate.left as usize];
            merged.len = candidate.merged_len;
            merged.id = candidate.id;
            merged.next = right.next;
            self.symbols[candidate.right as usize].len = 0;
            if right.next != NONE {
                self.symbols[right.next as usize].prev = candidate.left;
                self.add_candidate(candidate.left, right.next);
            }
            if left.prev != NONE {
                self.add_candidate(left.prev, candidate.left);
            }
        }
    }

    fn add_candidate(&mut self, left: u32, right: u32) {
        let (l, r) = (self.symbols[left as usize], self.symbols[right as usize]);
        if !(l.mergeable && r.mergeable) {
            return;
        }
        let merged_len = l.len + r.len;
        let text = &self.normalized[l.start as usize..(l.start + merged_len) as usize];
        if let Some(id) = self.vocab.normal_id(text) {
            let score = self.vocab.pieces[id as usize].score;
            self.heap.push(Candidate { score, left_start: l.start, left, right, merged_len, id });
        }
    }
}
